"""Remote triggers: a pipeline with `on: remote: enabled` starts by URL when the caller has its token.

A maintainer generates the token; only its sha256 is stored and the plain value is shown once.
Generating again replaces it, so the old token stops working at once.
"""

import hashlib
import hmac
import secrets

from django.db import transaction
from django.utils import timezone

from apps.core.choices import Role
from apps.core.errors import ApplicationError, PermissionDenied, ValidationFailed
from apps.core.permissions import require_role
from apps.process.language import TriggerEvent, trigger_matches
from apps.process.language.schema import scalar_text
from apps.process.models import Build, Pipeline, RemoteTriggerToken
from apps.process.services.builds import build_start
from apps.process.services.schedules import DEFAULT_BRANCH, pipeline_triggers

TOKEN_PREFIX = "rt-"
REMOTE_ACTOR = "remote"


class RemoteTokenInvalid(ApplicationError):
    code = "authentication_failed"
    default_message = "The remote-trigger token is missing or wrong."


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def remote_token_generate(*, pipeline: Pipeline, user) -> tuple[RemoteTriggerToken, str]:
    """A new token for the pipeline's trigger URL, replacing any earlier one; (row, plain token)."""
    require_role(user, pipeline.project, Role.MAINTAINER)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token, _ = RemoteTriggerToken.objects.update_or_create(
        pipeline=pipeline,
        defaults={
            "token_hash": token_digest(plaintext),
            "hint": plaintext[: len(TOKEN_PREFIX) + 4],
            "created_by": user,
            "created_at": timezone.now(),
            "last_used_at": None,
        },
    )
    return token, plaintext


def remote_token_get(pipeline: Pipeline) -> RemoteTriggerToken | None:
    return RemoteTriggerToken.objects.select_related("created_by").filter(pipeline=pipeline).first()


def remote_pipeline_authenticate(*, project_slug: str, pipeline_slug: str, token: str) -> Pipeline:
    """The pipeline the token opens; RemoteTokenInvalid for a wrong token or an unknown pipeline alike."""
    if not token:
        raise RemoteTokenInvalid("Send the pipeline's token in the X-Devops-Token header or ?token=.")
    stored = (
        RemoteTriggerToken.objects.select_related("pipeline__current_version", "pipeline__project")
        .filter(pipeline__project__slug=project_slug, pipeline__slug=pipeline_slug)
        .first()
    )
    if stored is None or not hmac.compare_digest(stored.token_hash, token_digest(token)):
        raise RemoteTokenInvalid("The token does not open this pipeline.")
    return stored.pipeline


def _branch(value) -> str:
    if value is None or value == "":
        return DEFAULT_BRANCH
    if not isinstance(value, str):
        raise ValidationFailed("'branch' must be a string.", details={"branch": ["Must be a string."]})
    branch = value.removeprefix("refs/heads/")
    if not branch or any(char.isspace() for char in branch) or ".." in branch or len(branch) > 200:
        raise ValidationFailed(f"'{value}' is not a branch name.", details={"branch": ["Not a branch name."]})
    return branch


def _mapping(value, name: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationFailed(f"'{name}' must be an object.", details={name: ["Must be an object."]})
    return value


def _variables(value) -> dict[str, str]:
    variables = _mapping(value, "variables")
    wrong = sorted(name for name, item in variables.items() if isinstance(item, dict | list))
    if wrong:
        details = {"variables": {name: ["Must be text, a number or a boolean."] for name in wrong}}
        raise ValidationFailed("Variables must be text, numbers or booleans.", details=details)
    return {name: scalar_text(item) for name, item in variables.items()}


def remote_trigger_event(branch: str) -> TriggerEvent:
    return TriggerEvent(event="remote", ref=f"refs/heads/{branch}", actor=REMOTE_ACTOR)


def remote_build_start(
    *, project_slug: str, pipeline_slug: str, token: str, body: dict | None = None
) -> Build:
    """Check the token, that the current version allows remote runs, and start the build."""
    pipeline = remote_pipeline_authenticate(
        project_slug=project_slug, pipeline_slug=pipeline_slug, token=token
    )
    body = _mapping(body, "body")
    event = remote_trigger_event(_branch(body.get("branch")))
    allowed, reason = trigger_matches(pipeline_triggers(pipeline), event)
    if not allowed:
        raise PermissionDenied(reason)
    variables = _variables(body.get("variables"))
    build = build_start(
        pipeline=pipeline, trigger=event, inputs=_mapping(body.get("inputs"), "inputs"), variables=variables
    )
    RemoteTriggerToken.objects.filter(pipeline=pipeline).update(last_used_at=timezone.now())
    return build
