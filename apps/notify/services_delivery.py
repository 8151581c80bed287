"""Deliveries: turn a build event into Delivery rows (recipients, rendered messages), and make one
attempt at a delivery at a time.

An attempt first claims the row with one conditional UPDATE (pending, due; attempts + 1 and a lease
on `next_attempt_at`), so a redelivered message or the periodic sweep never sends twice, and no
transaction is held while the receiver is slow. Every attempt is recorded; a failure is tried again
after DEVOPS_NOTIFY_RETRY_SECONDS, doubling each time, until DEVOPS_NOTIFY_MAX_ATTEMPTS.
"""

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.notify.channels import Outcome, email_send, webhook_send
from apps.notify.choices import BUILD_END_EVENTS, Channel, DeliveryStatus, Source
from apps.notify.facts import build_facts
from apps.notify.messages import http_payload, render_message
from apps.notify.models import Delivery, DeliveryAttempt
from apps.notify.recipients import event_recipients, event_triggers
from apps.notify.secrets import setting_secret
from apps.process.models import Build

logger = logging.getLogger(__name__)
SEND_LEASE = timedelta(seconds=120)
EARLY = timedelta(seconds=1)
MAX_RETRY_SECONDS = 3600


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones."""
    return min(settings.DEVOPS_NOTIFY_RETRY_SECONDS * 2 ** max(attempts - 1, 0), MAX_RETRY_SECONDS)


def notifications_prepare(*, build_id: int, event: str, stage_index: int | None = None) -> list[int]:
    """The ids of the deliveries this event of the build calls for, written now (already written ones
    are not repeated: the task may run twice)."""
    build = Build.objects.select_related("pipeline__project", "created_by").filter(id=build_id).first()
    if build is None:
        return []
    if event in BUILD_END_EVENTS and event != f"build.{build.status}":
        logger.info("build %s is %s now; its %s is not notified", build.id, build.status, event)
        return []
    triggers = event_triggers(build, event)
    recipients = event_recipients(build, event, triggers, stage_index)
    if not recipients:
        return []
    facts = build_facts(build, event=event, stage_index=stage_index)
    now = timezone.now()
    created = []
    with transaction.atomic():
        for recipient in recipients:
            subject, body = render_message(
                facts,
                trigger=triggers[0],
                channel=recipient.channel,
                subject=recipient.subject,
                content=recipient.content,
            )
            delivery, made = Delivery.objects.get_or_create(
                build=build,
                build_attempt=build.attempt,
                event=event,
                stage_index=-1 if stage_index is None else stage_index,
                channel=recipient.channel,
                target=recipient.target,
                defaults={
                    "pipeline_id": build.pipeline_id,
                    "trigger": triggers[0],
                    "source": recipient.source,
                    "setting_id": recipient.setting_id,
                    "subject": subject,
                    "body": body,
                    "facts": facts,
                    "next_attempt_at": now,
                },
            )
            if made:
                created.append(delivery.id)
    return created


def delivery_headers(delivery: Delivery) -> dict:
    return {"X-Devops-Event": delivery.event, "X-Devops-Delivery": str(delivery.id)}


def delivery_send(delivery: Delivery) -> Outcome:
    """One try over the delivery's channel; never raises."""
    try:
        if delivery.channel == Channel.EMAIL:
            return email_send(
                to=delivery.target,
                subject=delivery.subject,
                body=delivery.body,
                headers=delivery_headers(delivery),
            )
        secret = ""
        if delivery.source == Source.SETTINGS:
            if delivery.setting is None:
                return Outcome(False, None, "the notification setting was deleted", final=True)
            secret = setting_secret(delivery.setting)
        return webhook_send(
            channel=delivery.channel,
            url=delivery.target,
            payload=http_payload(delivery),
            headers=delivery_headers(delivery),
            secret=secret,
        )
    except Exception as error:  # whatever goes wrong is recorded on the attempt
        logger.exception("delivery %s failed unexpectedly", delivery.id)
        return Outcome(False, None, f"{type(error).__name__}: {error}")


def delivery_claim(delivery_id: int, now) -> bool:
    due = Delivery.objects.filter(
        id=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now + EARLY
    )
    return bool(due.update(attempts=F("attempts") + 1, next_attempt_at=now + SEND_LEASE, updated_at=now))


def delivery_record(delivery: Delivery, outcome: Outcome, duration_ms: int) -> float | None:
    """Write the attempt and the delivery's new state; the seconds until the next attempt, or None."""
    now = timezone.now()
    fields = {"response_code": outcome.response_code, "last_error": outcome.error[:2000], "updated_at": now}
    delay = None
    if outcome.ok:
        fields.update(status=DeliveryStatus.SENT, sent_at=now, next_attempt_at=None)
    elif outcome.final or delivery.attempts >= settings.DEVOPS_NOTIFY_MAX_ATTEMPTS:
        fields.update(status=DeliveryStatus.FAILED, next_attempt_at=None)
    else:
        delay = retry_delay(delivery.attempts)
        fields.update(next_attempt_at=now + timedelta(seconds=delay))
    with transaction.atomic():
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            ok=outcome.ok,
            response_code=outcome.response_code,
            error=outcome.error[:2000],
            duration_ms=duration_ms,
        )
        Delivery.objects.filter(id=delivery.id).update(**fields)
    return delay


def delivery_attempt(*, delivery_id: int, now=None) -> float | None:
    """Send a due pending delivery once; the seconds until its next attempt when it failed and may be
    tried again, else None (sent, given up, not due, or another worker has it)."""
    if not delivery_claim(delivery_id, now or timezone.now()):
        return None
    delivery = Delivery.objects.select_related("setting").get(id=delivery_id)
    started = time.monotonic()
    outcome = delivery_send(delivery)
    return delivery_record(delivery, outcome, int((time.monotonic() - started) * 1000))


def deliveries_due(*, now=None, limit: int = 200) -> list[int]:
    """Pending deliveries whose next attempt is due (also those a lost message or worker left)."""
    due = Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now or timezone.now())
    return list(due.order_by("next_attempt_at").values_list("id", flat=True)[:limit])
