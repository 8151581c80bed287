"""Who hears about a build event: the YAML `notices:` of the build's Plan (build end events only),
the pipeline's notification settings, the reviewers or gatekeepers who can act on a waiting stage,
and the users' subscriptions, de-duplicated by channel and
target (settings first, so a webhook's secret wins over the same URL written in the YAML)."""

import logging
import re
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db.models import Q

from apps.core.permissions import user_role
from apps.core.selectors import listed_members, membership_list
from apps.notify.choices import BUILD_END_EVENTS, EVENT_TRIGGERS, URL_CHANNELS, Channel, Source, Trigger
from apps.notify.facts import build_is_fixed
from apps.notify.models import PipelineNotification, Subscription
from apps.process.choices import Status
from apps.process.language.expressions import (
    ExpressionError,
    StatusFunctions,
    evaluate_condition,
    render_template,
)
from apps.process.models import Build
from apps.process.selectors_builds import stage_reviewers
from apps.process.services.engine import build_static_contexts
from apps.quality.selectors import blocked_gatekeepers

logger = logging.getLogger(__name__)
ADDRESS_SEPARATORS = re.compile(r"[\s,;]+")
URL_PATTERN = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Recipient:
    channel: str
    target: str
    source: str
    setting_id: int | None = None
    subject: str = ""
    content: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return self.channel, self.target.lower() if self.channel == Channel.EMAIL else self.target


def event_triggers(build: Build, event: str) -> list[str]:
    """The triggers a build event stands for; a success that follows a failure is also `fixed`."""
    triggers = list(EVENT_TRIGGERS.get(event, ()))
    if Trigger.SUCCESS in triggers and build_is_fixed(build):
        triggers.insert(0, Trigger.FIXED)
    return triggers


def split_addresses(text: str) -> list[str]:
    return [part for part in ADDRESS_SEPARATORS.split(text or "") if part]


def is_email(text: str) -> bool:
    try:
        validate_email(text)
    except ValidationError:
        return False
    return True


def is_url(text: str) -> bool:
    return bool(URL_PATTERN.match(text or "")) and len(text) <= 500


def dedupe(recipients: list[Recipient]) -> list[Recipient]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for recipient in recipients:
        if recipient.key not in seen:
            seen.add(recipient.key)
            kept.append(recipient)
    return kept


def member_email(username: str, project) -> str:
    """The address of a project member named in a notice; "" for strangers and users without one."""
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not user.email or user_role(user, project) is None:
        return ""
    return user.email


def status_functions(build: Build) -> StatusFunctions:
    return StatusFunctions(
        success=build.status == Status.SUCCEEDED,
        failure=build.status in (Status.FAILED, Status.TIMED_OUT),
        cancelled=build.status == Status.CANCELED,
    )


def _render(text: str | None, contexts: dict, status: StatusFunctions) -> str:
    if not text:
        return ""
    try:
        return render_template(text, contexts, status)
    except ExpressionError as error:
        logger.warning("a notice template does not render: %s", error)
        return ""


def notice_recipients(build: Build, event: str) -> list[Recipient]:
    """Targets of the Plan's notices whose `if` holds for the build's outcome."""
    notices = (build.plan or {}).get("notices") or []
    if event not in BUILD_END_EVENTS or not notices:
        return []
    contexts = build_static_contexts(build)
    status = status_functions(build)
    found = []
    for notice in notices:
        try:
            if not evaluate_condition(notice.get("if") or "always()", contexts, status):
                continue
        except ExpressionError as error:
            logger.warning("the `if` of a notice of build %s does not evaluate: %s", build.id, error)
            continue
        subject = _render(notice.get("title"), contexts, status)
        content = _render(notice.get("content"), contexts, status)
        receivers = [_render(receiver, contexts, status) for receiver in notice.get("receivers") or []]
        for channel in notice.get("type") or []:
            for receiver in receivers:
                for target in _notice_targets(channel, receiver, build):
                    found.append(Recipient(channel, target, Source.YAML, subject=subject, content=content))
    return found


def _notice_targets(channel: str, receiver: str, build: Build) -> list[str]:
    if channel in URL_CHANNELS:
        return [receiver.strip()] if is_url(receiver.strip()) else []
    if channel != Channel.EMAIL:
        return []
    targets = []
    for name in split_addresses(receiver):
        address = name if is_email(name) else member_email(name, build.pipeline.project)
        if address:
            targets.append(address)
    return targets


def setting_recipients(build: Build, triggers: list[str]) -> list[Recipient]:
    found = []
    for setting in PipelineNotification.objects.filter(pipeline_id=build.pipeline_id, enabled=True):
        if not set(setting.events) & set(triggers):
            continue
        if setting.channel == Channel.EMAIL:
            targets = [address for address in split_addresses(setting.target) if is_email(address)]
        else:
            targets = [setting.target.strip()] if is_url(setting.target.strip()) else []
        found.extend(Recipient(setting.channel, target, Source.SETTINGS, setting.id) for target in targets)
    return found


def subscription_recipients(build: Build, triggers: list[str]) -> list[Recipient]:
    """Emails to users subscribed to the build's project or pipeline who may still see the project."""
    project = build.pipeline.project
    subscriptions = Subscription.objects.filter(
        Q(pipeline__isnull=True) | Q(pipeline_id=build.pipeline_id), project=project
    ).select_related("user")
    members = set(membership_list(project).values_list("user_id", flat=True))  # one query, not one a user
    found = []
    for subscription in subscriptions:
        user = subscription.user
        if not set(subscription.events) & set(triggers) or not user.is_active or not user.email:
            continue
        if user.id not in members and not user.is_superuser:
            continue
        found.append(Recipient(Channel.EMAIL, user.email, Source.SUBSCRIPTION))
    return found


def decider_recipients(build: Build, event: str, stage_index: int | None) -> list[Recipient]:
    """Emails to the people who can act: a stage's reviewers when it waits for review, the
    gatekeepers of a blocked gate (project maintainers when the gate names none)."""
    if stage_index is None or event not in ("review.requested", "gate.blocked"):
        return []
    if event == "review.requested":
        names = stage_reviewers(build, stage_index)
        if not names:
            return []
    else:
        names = blocked_gatekeepers(build_id=build.id, attempt=build.attempt, stage_index=stage_index)
    users = listed_members(build.pipeline.project, names)
    return [Recipient(Channel.EMAIL, user.email, Source.DECIDERS) for user in users if user.email]


def event_recipients(
    build: Build, event: str, triggers: list[str], stage_index: int | None = None
) -> list[Recipient]:
    if not triggers:
        return []
    return dedupe(
        setting_recipients(build, triggers)
        + notice_recipients(build, event)
        + decider_recipients(build, event, stage_index)
        + subscription_recipients(build, triggers)
    )
