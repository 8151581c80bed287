"""Writes of notification settings (maintainers of the pipeline's project) and of a user's own
subscriptions (any member). Deliveries are written by services_delivery."""

from django.db import transaction

from apps.core.choices import Role
from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.core.permissions import require_role
from apps.notify.choices import Channel, Trigger
from apps.notify.models import PipelineNotification, Subscription
from apps.notify.recipients import is_email, is_url, split_addresses
from apps.notify.secrets import secret_seal

MAX_SECRET_CHARS = 500


def events_clean(events) -> list[str]:
    """The chosen triggers in their canonical order; at least one, all known."""
    chosen = [str(each) for each in events or []]
    unknown = sorted(set(chosen) - set(Trigger.values))
    if unknown:
        raise ValidationFailed(
            details={"events": [f"unknown event {', '.join(unknown)} (use {', '.join(Trigger.values)})"]}
        )
    if not chosen:
        raise ValidationFailed(details={"events": ["choose at least one event"]})
    return [each for each in Trigger.values if each in chosen]


def target_clean(channel: str, target: str) -> str:
    if channel not in Channel.values:
        raise ValidationFailed(details={"channel": [f"unknown channel {channel!r}"]})
    text = (target or "").strip()
    if channel == Channel.EMAIL:
        addresses = split_addresses(text)
        wrong = [address for address in addresses if not is_email(address)]
        if wrong or not addresses:
            message = f"not an email address: {', '.join(wrong)}" if wrong else "give at least one address"
            raise ValidationFailed(details={"target": [message]})
        return ", ".join(addresses)
    if not is_url(text):
        raise ValidationFailed(
            details={"target": ["give one http:// or https:// URL (at most 500 characters)"]}
        )
    return text


def secret_clean(channel: str, secret: str | None) -> str | None:
    if secret is None or secret == "":
        return secret
    if channel != Channel.WEBHOOK:
        raise ValidationFailed(details={"secret": ["only a generic webhook is signed with a secret"]})
    if len(secret) > MAX_SECRET_CHARS:
        raise ValidationFailed(details={"secret": [f"at most {MAX_SECRET_CHARS} characters"]})
    return secret


@transaction.atomic
def notification_setting_create(
    *, pipeline, user, events, channel: str, target: str, secret: str = "", enabled: bool = True
) -> PipelineNotification:
    require_role(user, pipeline.project, Role.MAINTAINER)
    setting = PipelineNotification(
        pipeline=pipeline,
        events=events_clean(events),
        channel=channel,
        target=target_clean(channel, target),
        enabled=enabled,
        created_by=user,
    )
    secret_seal(setting, secret_clean(channel, secret) or "")
    setting.save()
    return setting


@transaction.atomic
def notification_setting_update(
    *, setting: PipelineNotification, user, events=None, channel=None, target=None, secret=None, enabled=None
) -> PipelineNotification:
    """Change what is given; `secret` None keeps it, "" clears it. A channel other than webhook
    drops the secret."""
    require_role(user, setting.pipeline.project, Role.MAINTAINER)
    channel = channel if channel is not None else setting.channel
    if events is not None:
        setting.events = events_clean(events)
    setting.target = target_clean(channel, target if target is not None else setting.target)
    setting.channel = channel
    if enabled is not None:
        setting.enabled = enabled
    secret = secret_clean(channel, secret)
    if secret is not None:
        secret_seal(setting, secret)
    elif channel != Channel.WEBHOOK:
        secret_seal(setting, "")
    setting.save()
    return setting


def notification_setting_delete(*, setting: PipelineNotification, user) -> None:
    require_role(user, setting.pipeline.project, Role.MAINTAINER)
    setting.delete()


def _check_pipeline(project, pipeline) -> None:
    if pipeline is not None and pipeline.project_id != project.id:
        raise NotFound("Pipeline not found.")


@transaction.atomic
def subscription_save(*, user, project, pipeline=None, events) -> Subscription:
    """Subscribe the user to the project (pipeline None) or one of its pipelines, or change the
    events of that subscription."""
    require_role(user, project, Role.VIEWER)
    _check_pipeline(project, pipeline)
    subscription, _ = Subscription.objects.update_or_create(
        user=user, project=project, pipeline=pipeline, defaults={"events": events_clean(events)}
    )
    return subscription


def _require_own(subscription: Subscription, user) -> None:
    if subscription.user_id != user.id:
        raise PermissionDenied("This subscription is someone else's.")


@transaction.atomic
def subscription_update(*, subscription: Subscription, user, events) -> Subscription:
    _require_own(subscription, user)
    subscription.events = events_clean(events)
    subscription.save(update_fields=["events", "updated_at"])
    return subscription


def subscription_delete(*, subscription: Subscription, user) -> None:
    _require_own(subscription, user)
    subscription.delete()
