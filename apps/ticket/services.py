"""Writes to credentials (with their audit events) and the one way their values leave the
database: `job_secrets`, the secret provider the engine calls for a claimed job.

Owners and maintainers manage a project's credentials; developers' pipelines use them; viewers
see names only. Values are write-only: they are accepted on create and replace, never returned.
"""

import json
from collections import OrderedDict
from typing import NamedTuple

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.choices import Role
from apps.core.errors import Conflict, ValidationFailed
from apps.core.models import Project
from apps.core.permissions import require_role
from apps.core.selectors import project_list_for_user
from apps.process.services.checkout import checkout_credential_name
from apps.ticket.choices import TYPE_FIELDS, CredentialAction, CredentialType
from apps.ticket.crypto import Sealed, key_ring
from apps.ticket.models import Credential, CredentialEvent, CredentialUse, associated_data
from apps.ticket.references import ALL, plan_job_references

MAX_VALUE_CHARS = 64 * 1024
SINGLE_FIELD_TYPES = {CredentialType.PASSWORD, CredentialType.TOKEN, CredentialType.SECRET_FILE}


def require_manager(user, project: Project) -> None:
    require_role(user, project, Role.MAINTAINER)


def _event(credential: Credential, user, action: str, **details) -> None:
    CredentialEvent.objects.create(
        credential=credential if action != CredentialAction.DELETED else None,
        project_id=credential.project_id,
        credential_name=credential.name,
        action=action,
        actor=user if getattr(user, "is_authenticated", False) else None,
        details=details,
    )


def check_values(*, type: str, values) -> dict[str, str]:
    """The value fields of a credential of `type`: every required one, no unknown one, strings."""
    if type not in TYPE_FIELDS:
        raise ValidationFailed(f"Unknown credential type {type!r}.", details={"type": ["Unknown type."]})
    fields, required = TYPE_FIELDS[type]
    if not isinstance(values, dict):
        raise ValidationFailed(
            "The value must be an object of fields.", details={"values": ["Not an object."]}
        )
    problems = {}
    for name in values:
        if name not in fields:
            problems[name] = [f"Not a field of a {type} credential (fields: {', '.join(fields)})."]
    clean = {}
    for name in fields:
        value = values.get(name)
        if value in (None, ""):
            if name in required:
                problems[name] = ["This field is required."]
            continue
        if not isinstance(value, str):
            problems[name] = ["Must be text."]
        elif len(value) > MAX_VALUE_CHARS:
            problems[name] = [f"At most {MAX_VALUE_CHARS} characters."]
        else:
            clean[name] = value
    if problems:
        raise ValidationFailed("The credential's value is not valid.", details=problems)
    return clean


def _seal(credential: Credential, values: dict[str, str]) -> None:
    sealed = key_ring().encrypt(json.dumps(values).encode(), credential.associated_data)
    credential.key_id, credential.nonce, credential.ciphertext = (
        sealed.key_id,
        sealed.nonce,
        sealed.ciphertext,
    )


def credential_value(credential: Credential) -> dict[str, str]:
    """The decrypted fields; raises crypto.DecryptionFailed. For the secret provider and rotation only."""
    sealed = Sealed(credential.key_id, bytes(credential.nonce), bytes(credential.ciphertext))
    return json.loads(key_ring().decrypt(sealed, credential.associated_data))


def _projects_for_sharing(user, slugs, owner: Project) -> list[Project]:
    slugs = sorted({str(slug) for slug in slugs or []} - {owner.slug})
    found = list(project_list_for_user(user).filter(slug__in=slugs))
    missing = sorted(set(slugs) - {project.slug for project in found})
    if missing:
        message = f"No such project: {', '.join(missing)}."
        raise ValidationFailed(message, details={"shared_with": [message]})
    return found


def _full_clean(credential: Credential) -> None:
    try:
        credential.full_clean(
            exclude=["key_id", "nonce", "ciphertext", "project", "shared_with"],
            validate_unique=False,
            validate_constraints=False,
        )
    except DjangoValidationError as error:
        raise ValidationFailed.from_django(error) from error


def credential_create(
    *, project: Project, user, name: str, type: str, values: dict, description: str = "", shared_with=()
) -> Credential:
    require_manager(user, project)
    clean = check_values(type=type, values=values)
    credential = Credential(project=project, name=name, type=type, description=description, created_by=user)
    _full_clean(credential)
    shared = _projects_for_sharing(user, shared_with, project)
    _seal(credential, clean)
    try:
        with transaction.atomic():
            credential.save()
            credential.shared_with.set(shared)
            _event(credential, user, CredentialAction.CREATED, type=type, fields=sorted(clean))
    except IntegrityError:
        raise Conflict(f"A credential named {name} already exists in {project.slug}.") from None
    return credential


@transaction.atomic
def credential_update(
    *,
    credential: Credential,
    user,
    description: str | None = None,
    shared_with=None,
    values: dict | None = None,
) -> Credential:
    """Change the description, the projects it is shared with, and (when given) replace the value."""
    require_manager(user, credential.project)
    changed = []
    if description is not None and description != credential.description:
        credential.description = description
        changed.append("description")
    if shared_with is not None:
        shared = _projects_for_sharing(user, shared_with, credential.project)
        before = sorted(credential.shared_with.values_list("slug", flat=True))
        after = sorted(project.slug for project in shared)
        if before != after:
            credential.shared_with.set(shared)
            _event(credential, user, CredentialAction.SHARED, before=before, after=after)
    if values is not None:
        return credential_replace_value(credential=credential, user=user, values=values, also=changed)
    if changed:
        _full_clean(credential)
        credential.save(update_fields=[*changed, "updated_at"])
        _event(credential, user, CredentialAction.UPDATED, fields=changed)
    return credential


@transaction.atomic
def credential_replace_value(*, credential: Credential, user, values: dict, also=()) -> Credential:
    require_manager(user, credential.project)
    clean = check_values(type=credential.type, values=values)
    _seal(credential, clean)
    credential.rotated_at = timezone.now()
    credential.save(update_fields=["key_id", "nonce", "ciphertext", "rotated_at", "updated_at", *also])
    if also:
        _event(credential, user, CredentialAction.UPDATED, fields=list(also))
    _event(credential, user, CredentialAction.ROTATED, fields=sorted(clean))
    return credential


@transaction.atomic
def credential_delete(*, credential: Credential, user) -> None:
    require_manager(user, credential.project)
    _event(credential, user, CredentialAction.DELETED, type=credential.type)
    credential.delete()


# ------------------------------------------------------------------------------------------------
# Use by builds


def context_value(type: str, fields: dict[str, str]):
    """What `secrets.NAME` is: the value of a single-field type, else an object of its fields."""
    if type in SINGLE_FIELD_TYPES:
        return next(iter(fields.values()), "")
    return dict(fields)


def is_fork_pull_request(trigger: dict) -> bool:
    """A pull request from a fork gets no secrets. The webhook trigger sets `fork` (or the head
    repository differs from the base one); until then no trigger carries it."""
    if (trigger or {}).get("event") not in ("pull_request", "mr", "merge_request"):
        return False
    head, base = trigger.get("head_repository"), trigger.get("repository")
    return bool(trigger.get("fork")) or bool(head and base and head != base)


class SealedRow(NamedTuple):
    id: int
    uid: object
    project_id: int
    name: str
    type: str
    key_id: str
    nonce: bytes
    ciphertext: bytes


def usable_credentials(project_id: int, names: set[str]) -> list[SealedRow]:
    """A project's own credentials and those shared with it (its own win on a name clash), as
    plain rows: a claim decrypts them without building model instances."""
    shared = Credential.shared_with.through.objects.filter(project_id=project_id).values("credential_id")
    credentials = Credential.objects.filter(Q(project_id=project_id) | Q(id__in=shared))
    if ALL not in names:
        credentials = credentials.filter(name__in=names)
    chosen: dict[str, SealedRow] = {}
    for row in credentials.order_by("name", "id").values_list(*SealedRow._fields):
        row = SealedRow(*row)
        current = chosen.get(row.name)
        if current is None or (current.project_id != project_id and row.project_id == project_id):
            chosen[row.name] = row
    return list(chosen.values())


_references: OrderedDict = OrderedDict()


def job_references(build, job_id: str) -> set[str]:
    """Cached per (build, job id): a build's Plan never changes."""
    key = (build.id, job_id)
    names = _references.get(key)
    if names is None:
        names = _references[key] = plan_job_references(build.plan, job_id)
        if len(_references) > 4096:
            _references.popitem(last=False)
    return names


def job_secrets(build, job, *, claim: bool = False) -> dict:
    """The secret provider: the credentials `job` references, and the pipeline's repository
    credential when the job checks the repository out with it, decrypted; uses recorded on claim."""
    if job is None or is_fork_pull_request(build.trigger):
        return {}
    names = job_references(build, job.job_id)
    checkout = checkout_credential_name(build, job)
    if checkout:
        names = names | {checkout}
    if not names:
        return {}
    project_id = build.pipeline.project_id
    credentials = usable_credentials(project_id, names)
    ring = key_ring()
    secrets = {}
    for row in credentials:
        plaintext = ring.decrypt(
            Sealed(row.key_id, bytes(row.nonce), bytes(row.ciphertext)),
            associated_data(row.uid, row.project_id),
        )
        secrets[row.name] = context_value(row.type, json.loads(plaintext))
    if claim and credentials:
        CredentialUse.objects.bulk_create(
            [
                CredentialUse(
                    credential_id=credential.id,
                    project_id=project_id,
                    build_id=build.id,
                    job_id=job.id,
                    attempt=job.attempt,
                )
                for credential in credentials
            ],
            ignore_conflicts=True,
        )
    return secrets


# ------------------------------------------------------------------------------------------------
# Key rotation


def credentials_reencrypt(*, batch_size: int = 100):
    """Re-encrypt every value not under the current key, a batch per transaction (rows locked
    only while their batch runs, so builds keep reading). Yields the count done after each batch."""
    ring = key_ring()
    done = 0
    while True:
        with transaction.atomic():
            ids = list(
                Credential.objects.exclude(key_id=ring.current_id)
                .order_by("id")
                .values_list("id", flat=True)[:batch_size]
            )
            if not ids:
                return
            for credential in Credential.objects.select_for_update().filter(id__in=ids):
                if credential.key_id == ring.current_id:
                    continue
                old_key = credential.key_id
                _seal(credential, credential_value(credential))
                credential.save(update_fields=["key_id", "nonce", "ciphertext"])
                _event(
                    credential, None, CredentialAction.REENCRYPTED, old_key=old_key, new_key=ring.current_id
                )
                done += 1
        yield done
