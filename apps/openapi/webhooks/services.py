"""Inbound webhooks: settings (a secret per pipeline, shown once) and receiving a delivery.

A delivery is checked (signature), deduplicated by its delivery id, parsed into a TriggerEvent and
matched against the `on:` of the pipeline's current version, exactly as schedules and remote
triggers do; a match starts a build whose trigger data keeps the repository, the delivery id and
`fork` (whether a pull request comes from a fork). Every delivery is recorded with its reason.

Pull and merge requests carry no list of files, so `paths`/`paths-ignore` cannot be checked: such
a pull request starts a build (the conservative choice: never miss a check), and the reason says so.
Without `types:`, pull requests build on opened, synchronize and reopened only, as on GitHub.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs

from django.db import IntegrityError, transaction

from apps.core.choices import Role
from apps.core.errors import ApplicationError, NotFound, ValidationFailed
from apps.core.permissions import require_role
from apps.openapi.choices import DeliveryOutcome
from apps.openapi.models import WebhookDelivery, WebhookSettings
from apps.openapi.webhooks.providers import ParsedEvent, delivery_id, detect_provider, event_name, parse
from apps.openapi.webhooks.secrets_box import secret_decrypt, secret_encrypt
from apps.openapi.webhooks.signatures import signature_valid
from apps.process.language import trigger_matches
from apps.process.models import Pipeline
from apps.process.services.builds import build_start
from apps.process.services.schedules import pipeline_triggers

DEFAULT_PULL_REQUEST_ACTIONS = ("opened", "synchronize", "reopened")
SECRET_PREFIX = "whs_"


class SignatureInvalid(ApplicationError):
    code = "authentication_failed"
    default_message = "The signature or token of the delivery is wrong."


@dataclass
class DeliveryResult:
    delivery: WebhookDelivery
    duplicate: bool = False


@transaction.atomic
def webhook_settings_update(
    *, pipeline: Pipeline, user, repository_url: str | None = None, regenerate: bool = False
) -> tuple[WebhookSettings, str | None]:
    """Create or change the pipeline's webhook; (settings, new plaintext secret or None)."""
    require_role(user, pipeline.project, Role.MAINTAINER)
    settings_row = WebhookSettings.objects.filter(pipeline=pipeline).first()
    plaintext = None
    if settings_row is None or regenerate:
        plaintext = SECRET_PREFIX + secrets.token_urlsafe(32)
    if settings_row is None:
        settings_row = WebhookSettings(pipeline=pipeline, created_by=user)
    if plaintext is not None:
        settings_row.secret_encrypted = secret_encrypt(plaintext)
        settings_row.secret_hint = plaintext[: len(SECRET_PREFIX) + 4]
    if repository_url is not None:
        settings_row.repository_url = repository_url.strip()[:500]
    settings_row.save()
    return settings_row, plaintext


def _payload(body: bytes) -> object:
    try:
        text = body.decode("utf-8")
        if text.startswith("payload="):  # GitHub's application/x-www-form-urlencoded content type
            text = parse_qs(text).get("payload", [""])[0]
        return json.loads(text)
    except (UnicodeDecodeError, ValueError):
        raise ValidationFailed("The body is not JSON: use the content type application/json.") from None


def _record(
    pipeline: Pipeline, provider: str, delivery: str, parsed: ParsedEvent, **fields
) -> WebhookDelivery:
    trigger = parsed.trigger
    facts = {}
    if trigger is not None:
        facts = {
            "action": trigger.action,
            "ref": trigger.ref[:255],
            "sha": trigger.sha[:64],
            "actor": trigger.actor[:255],
        }
    return WebhookDelivery.objects.create(
        pipeline=pipeline,
        provider=provider,
        delivery_id=delivery,
        event=parsed.event[:100],
        is_fork=parsed.fork,
        **facts,
        **fields,
    )


def _normalised(url: str) -> str:
    url = url.strip().lower().removesuffix("/").removesuffix(".git")
    for prefix in ("https://", "http://", "ssh://", "git@"):
        url = url.removeprefix(prefix)
    return url.replace(":", "/")


def _decision(pipeline: Pipeline, settings_row: WebhookSettings, parsed: ParsedEvent) -> tuple[bool, str]:
    wanted = settings_row.repository_url or pipeline.repository_url
    if wanted and _normalised(wanted) not in {_normalised(url) for url in parsed.repository_urls}:
        return False, f"the delivery is not from the pipeline's repository {wanted}"
    triggers = pipeline_triggers(pipeline)
    event = parsed.trigger
    config = triggers.get("pull_request") or {}
    if event.event == "pull_request" and not config.get("types") and event.action:
        if event.action not in DEFAULT_PULL_REQUEST_ACTIONS:
            defaults = ", ".join(DEFAULT_PULL_REQUEST_ACTIONS)
            return (
                False,
                f"pull request action '{event.action}' is not one of [{defaults}] (set types: to choose)",
            )
    ok, reason = trigger_matches(triggers, event)
    filters = config if event.event == "pull_request" else triggers.get("push") or {}
    has_paths = filters.get("paths") is not None or filters.get("paths_ignore") is not None
    if ok and has_paths and not parsed.paths_known:
        reason += "; paths filters not checked: the event lists no changed files, so it builds"
    return ok, reason


def _start(pipeline: Pipeline, provider: str, delivery: str, parsed: ParsedEvent) -> WebhookDelivery:
    trigger = parsed.trigger
    extra = {"repository": parsed.repository, "fork": parsed.fork, "provider": provider, "delivery": delivery}
    with transaction.atomic():
        # One transaction: build.started is emitted on commit, after the trigger data is complete.
        build = build_start(pipeline=pipeline, trigger=trigger)
        build.trigger = {**build.trigger, **extra}
        type(build).objects.filter(id=build.id).update(trigger=build.trigger)
        return build


def webhook_receive(*, project_slug: str, pipeline_slug: str, headers, body: bytes) -> DeliveryResult:
    """Check, deduplicate, record and act on one delivery. Raises SignatureInvalid (nothing starts)."""
    pipeline = (
        Pipeline.objects.select_related("project", "current_version", "webhook")
        .filter(project__slug=project_slug, slug=pipeline_slug, webhook__isnull=False)
        .first()
    )
    if pipeline is None:
        raise NotFound("No webhook is set up at this URL.")
    provider = detect_provider(headers)
    if provider is None:
        raise ValidationFailed("Unknown sender: expected GitHub, GitLab, Gitea or Forgejo event headers.")
    delivery = delivery_id(provider, headers) or "body:" + hashlib.sha256(body).hexdigest()[:64]
    secret = secret_decrypt(pipeline.webhook.secret_encrypted)
    if secret is None or not signature_valid(provider=provider, headers=headers, body=body, secret=secret):
        _record(
            pipeline,
            provider,
            delivery,
            ParsedEvent(event=event_name(provider, headers)[:100]),
            outcome=DeliveryOutcome.REJECTED,
            reason="bad signature or token: nothing started",
        )
        raise SignatureInvalid()
    existing = _existing(pipeline, provider, delivery)
    if existing is not None:
        return DeliveryResult(existing, duplicate=True)
    parsed = parse(provider, headers, _payload(body))
    try:
        return DeliveryResult(_act(pipeline, provider, delivery, parsed))
    except IntegrityError:
        return DeliveryResult(_existing(pipeline, provider, delivery), duplicate=True)


def _existing(pipeline: Pipeline, provider: str, delivery: str) -> WebhookDelivery | None:
    rows = WebhookDelivery.objects.filter(pipeline=pipeline, provider=provider, delivery_id=delivery)
    return rows.exclude(outcome=DeliveryOutcome.REJECTED).first()


@transaction.atomic
def _act(pipeline: Pipeline, provider: str, delivery: str, parsed: ParsedEvent) -> WebhookDelivery:
    if parsed.trigger is None:
        return _record(
            pipeline, provider, delivery, parsed, outcome=DeliveryOutcome.IGNORED, reason=parsed.ignored
        )
    ok, reason = _decision(pipeline, pipeline.webhook, parsed)
    if not ok:
        return _record(pipeline, provider, delivery, parsed, outcome=DeliveryOutcome.SKIPPED, reason=reason)
    row = _record(pipeline, provider, delivery, parsed, outcome=DeliveryOutcome.STARTED, reason=reason)
    try:
        with transaction.atomic():
            build = _start(pipeline, provider, delivery, parsed)
    except ApplicationError as error:
        problems = (error.details or {}).get("problems") if isinstance(error.details, dict) else None
        detail = "; ".join(p["message"] for p in problems or [])
        row.outcome, row.reason = DeliveryOutcome.FAILED, f"{error.message}{': ' + detail if detail else ''}"
        row.save(update_fields=["outcome", "reason"])
        return row
    row.build = build
    row.save(update_fields=["build"])
    return row


