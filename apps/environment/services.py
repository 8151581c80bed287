"""Writes to build machines, node groups and registration tokens, with the rules on who may make them.

Maintainers and owners manage their project's agents, node groups and tokens; shared agents and
tokens (no project) are managed by superusers only. Agents themselves register with a one-time
token and then authenticate every call with `Authorization: Agent <id>:<secret>`.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from apps.core.choices import Role
from apps.core.errors import Conflict, PermissionDenied, ValidationFailed
from apps.core.models import Project
from apps.core.permissions import require_role
from apps.environment.choices import AgentStatus, EnvironmentType
from apps.environment.errors import RegistrationTokenExpired, RegistrationTokenInvalid, RegistrationTokenUsed
from apps.environment.hashing import (
    REGISTRATION_TOKEN_PREFIX,
    digest,
    digest_matches,
    new_registration_token,
    new_secret,
)
from apps.environment.models import Agent, NodeGroup, RegistrationToken, agent_offline_after
from apps.environment.validators import normalize_labels

DEFAULT_TOKEN_LIFETIME = timedelta(hours=24)
MAX_TOKEN_LIFETIME = timedelta(days=30)
AGENT_SCHEME = "Agent"


def _full_clean(instance, *, exclude=None) -> None:
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error


def _labels(labels) -> list[str]:
    try:
        return normalize_labels(labels or [])
    except DjangoValidationError as error:
        raise ValidationFailed(error.messages[0], details={"labels": error.messages}) from error


def _slots(slots: int | None, *, allow_none: bool = False) -> int | None:
    if slots is None and allow_none:
        return None
    if not isinstance(slots, int) or isinstance(slots, bool) or slots < 1:
        message = "Slots must be a whole number of at least 1."
        raise ValidationFailed(message, details={"slots": [message]})
    return slots


def require_manager(user, project: Project | None) -> None:
    """Maintainers and owners manage a project's machines; only superusers manage shared ones."""
    if project is not None:
        require_role(user, project, Role.MAINTAINER)
    elif not (user.is_authenticated and user.is_superuser):
        raise PermissionDenied("Only superusers manage shared agents.")


def _node_groups_of(project: Project | None, node_groups: Iterable[NodeGroup] | None) -> list[NodeGroup]:
    node_groups = list(node_groups or [])
    if node_groups and project is None:
        raise ValidationFailed(
            "Shared agents belong to no node group.",
            details={"node_groups": ["Not allowed for shared agents."]},
        )
    foreign = [group.name for group in node_groups if group.project_id != project.pk] if project else []
    if foreign:
        raise ValidationFailed(
            f"These node groups belong to another project: {', '.join(foreign)}.",
            details={"node_groups": [f"{name} belongs to another project." for name in foreign]},
        )
    return node_groups


# Node groups


@transaction.atomic
def node_group_create(
    *,
    project: Project,
    user,
    name: str,
    env_type: str = EnvironmentType.BUILD,
    description: str = "",
    env: dict[str, str] | None = None,
) -> NodeGroup:
    require_manager(user, project)
    group = NodeGroup(
        project=project, name=name.strip(), env_type=env_type, description=description, env=env or {}
    )
    _full_clean(group)
    _save_node_group(group)
    return group


@transaction.atomic
def node_group_update(
    *,
    node_group: NodeGroup,
    user,
    name: str | None = None,
    env_type: str | None = None,
    description: str | None = None,
    env: dict[str, str] | None = None,
) -> NodeGroup:
    require_manager(user, node_group.project)
    changes = {
        "name": name.strip() if name is not None else None,
        "env_type": env_type,
        "description": description,
        "env": env,
    }
    for field, value in changes.items():
        if value is not None:
            setattr(node_group, field, value)
    _full_clean(node_group)
    _save_node_group(node_group)
    return node_group


def _save_node_group(group: NodeGroup) -> None:
    duplicate = NodeGroup.objects.filter(project=group.project_id, name=group.name).exclude(pk=group.pk)
    if duplicate.exists():
        raise Conflict(
            f"A node group called {group.name!r} already exists.",
            details={"name": ["A node group with this name already exists."]},
        )
    try:
        with transaction.atomic():
            group.save()
    except IntegrityError as error:
        raise Conflict(f"A node group called {group.name!r} already exists.") from error


@transaction.atomic
def node_group_delete(*, node_group: NodeGroup, user) -> None:
    require_manager(user, node_group.project)
    node_group.delete()


# Registration tokens


@transaction.atomic
def registration_token_create(
    *,
    project: Project | None,
    user,
    labels: list[str] | None = None,
    slots: int | None = None,
    node_groups: Iterable[NodeGroup] | None = None,
    expires_in: timedelta = DEFAULT_TOKEN_LIFETIME,
) -> tuple[RegistrationToken, str]:
    """A one-time token that registers one agent; the plaintext is returned here and never again."""
    require_manager(user, project)
    if not timedelta(0) < expires_in <= MAX_TOKEN_LIFETIME:
        message = "A token lives between a second and 30 days."
        raise ValidationFailed(message, details={"expires_in": [message]})
    plaintext = new_registration_token()
    token = RegistrationToken.objects.create(
        project=project,
        token_hash=digest(plaintext),
        hint=plaintext[: len(REGISTRATION_TOKEN_PREFIX) + 6],
        labels=_labels(labels),
        slots=_slots(slots, allow_none=True),
        created_by=user if user.is_authenticated else None,
        expires_at=timezone.now() + expires_in,
    )
    token.node_groups.set(_node_groups_of(project, node_groups))
    return token, plaintext


@transaction.atomic
def registration_token_delete(*, token: RegistrationToken, user) -> None:
    require_manager(user, token.project)
    token.delete()


def _consume_registration_token(plaintext: str, now: datetime) -> RegistrationToken:
    if not isinstance(plaintext, str) or not plaintext.startswith(REGISTRATION_TOKEN_PREFIX):
        raise RegistrationTokenInvalid()
    token = RegistrationToken.objects.select_related("project").filter(token_hash=digest(plaintext)).first()
    if token is None:
        raise RegistrationTokenInvalid()
    if token.used_at is not None:
        raise RegistrationTokenUsed()
    if token.expires_at <= now:
        raise RegistrationTokenExpired()
    if not RegistrationToken.objects.filter(pk=token.pk, used_at__isnull=True).update(used_at=now):
        raise RegistrationTokenUsed()
    token.used_at = now
    return token


# Agents


def _new_agent(*, project, user, name, labels, slots, node_groups, **facts) -> tuple[Agent, str]:
    secret = new_secret()
    agent = Agent(
        project=project,
        name=(name or "").strip(),
        labels=_labels(labels),
        slots=_slots(slots),
        secret_hash=digest(secret),
        created_by=user,
        **facts,
    )
    _full_clean(agent, exclude=["secret_hash"])
    agent.save()
    agent.node_groups.set(_node_groups_of(project, node_groups))
    return agent, secret


@transaction.atomic
def agent_register(
    *,
    token: str,
    name: str,
    hostname: str = "",
    os: str = "",
    arch: str = "",
    labels: list[str] | None = None,
    slots: int | None = None,
    version: str = "",
) -> tuple[Agent, str]:
    """Exchange a one-time registration token for a new agent and its secret.

    Labels are the token's and the agent's together; the token's slots, when set, win over the agent's.
    """
    now = timezone.now()
    registration = _consume_registration_token(token, now)
    agent, secret = _new_agent(
        project=registration.project,
        user=registration.created_by,
        name=name or hostname or "agent",
        labels=_labels(registration.labels) + _labels(labels),
        slots=registration.slots or slots or 1,
        node_groups=registration.node_groups.all(),
        hostname=hostname,
        os=os,
        arch=arch,
        version=version,
    )
    RegistrationToken.objects.filter(pk=registration.pk).update(agent=agent)
    return agent, secret


@transaction.atomic
def agent_create(
    *,
    project: Project | None,
    user,
    name: str,
    labels: list[str] | None = None,
    slots: int = 1,
    node_groups: Iterable[NodeGroup] | None = None,
) -> tuple[Agent, str]:
    """An agent created from the UI before its machine exists; the secret is shown once."""
    require_manager(user, project)
    return _new_agent(
        project=project, user=user, name=name, labels=labels, slots=slots, node_groups=node_groups
    )


def parse_agent_authorization(header_value: str | None) -> tuple[int, str] | None:
    """`Agent <id>:<secret>` -> (id, secret); None for anything else."""
    if not header_value:
        return None
    scheme, _, credentials = header_value.strip().partition(" ")
    agent_id, separator, secret = credentials.strip().partition(":")
    if (
        scheme != AGENT_SCHEME
        or not separator
        or not secret
        or not agent_id.isascii()
        or not agent_id.isdigit()
    ):
        return None
    return int(agent_id), secret


def agent_authenticate(header_value: str | None) -> Agent | None:
    """The agent an Authorization header proves to be, or None. Disabled agents still authenticate."""
    parsed = parse_agent_authorization(header_value)
    if parsed is None:
        return None
    agent_id, secret = parsed
    agent = Agent.objects.select_related("project").filter(pk=agent_id).first()
    if agent is None:
        digest_matches(secret, "0" * 64)
        return None
    return agent if digest_matches(secret, agent.secret_hash) else None


def agent_record_heartbeat(
    *,
    agent: Agent,
    version: str | None = None,
    os: str | None = None,
    arch: str | None = None,
    hostname: str | None = None,
) -> Agent:
    """Mark the agent seen now (online, or disabled if it is) and store the facts it reports."""
    now = timezone.now()
    facts = {
        field: str(value)[: Agent._meta.get_field(field).max_length]
        for field, value in {"version": version, "os": os, "arch": arch, "hostname": hostname}.items()
        if value is not None
    }
    status = Case(When(enabled=False, then=Value(AgentStatus.DISABLED)), default=Value(AgentStatus.ONLINE))
    Agent.objects.filter(pk=agent.pk).update(last_heartbeat_at=now, status=status, **facts)
    for field, value in facts.items():
        setattr(agent, field, value)
    agent.last_heartbeat_at = now
    agent.status = agent.current_status
    return agent


@transaction.atomic
def agent_update(
    *,
    agent: Agent,
    user,
    name: str | None = None,
    labels: list[str] | None = None,
    slots: int | None = None,
    enabled: bool | None = None,
    node_groups: Iterable[NodeGroup] | None = None,
) -> Agent:
    require_manager(user, agent.project)
    if name is not None:
        agent.name = name.strip()
    if labels is not None:
        agent.labels = _labels(labels)
    if slots is not None:
        agent.slots = _slots(slots)
    if enabled is not None:
        agent.enabled = bool(enabled)
    agent.status = agent.current_status
    _full_clean(agent)
    agent.save(update_fields=["name", "labels", "slots", "enabled", "status"])
    if node_groups is not None:
        agent.node_groups.set(_node_groups_of(agent.project, node_groups))
    return agent


@transaction.atomic
def agent_delete(*, agent: Agent, user) -> None:
    require_manager(user, agent.project)
    agent.delete()


def agent_mark_offline(*, now: datetime) -> int:
    """The sweep: agents marked online whose last heartbeat is too old become offline. Returns how many."""
    silent = Q(last_heartbeat_at__isnull=True) | Q(last_heartbeat_at__lt=now - agent_offline_after())
    return Agent.objects.filter(silent, status=AgentStatus.ONLINE).update(status=AgentStatus.OFFLINE)
