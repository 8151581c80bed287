"""Celery tasks of notifications (queue `notify`): ids in, one service call, idempotent. Nothing
here runs in the engine's path: a slow or failing receiver only ever delays this queue (or, on the
embedded default, the sender thread of apps.notify.sender)."""

from celery import shared_task

from apps.notify import services_delivery
from apps.notify.sender import sender_thread_running


@shared_task(name="apps.notify.tasks.notify_build_event", acks_late=True)
def notify_build_event(build_id: int, event: str, stage_index: int | None = None) -> int:
    delivery_ids = services_delivery.notifications_prepare(
        build_id=build_id, event=event, stage_index=stage_index
    )
    queue_sends(delivery_ids)
    return len(delivery_ids)


def queue_sends(delivery_ids: list[int]) -> None:
    """Hand deliveries to the notify queue, unless this process's sender thread sends them."""
    if not sender_thread_running():
        for delivery_id in delivery_ids:
            delivery_send.delay(delivery_id)


@shared_task(name="apps.notify.tasks.delivery_send", acks_late=True)
def delivery_send(delivery_id: int) -> None:
    delay = services_delivery.delivery_attempt(delivery_id=delivery_id)
    if delay is not None:
        delivery_send.apply_async((delivery_id,), countdown=delay)


@shared_task(name="apps.notify.tasks.deliveries_retry_due", acks_late=True)
def deliveries_retry_due() -> int:
    """Periodic: send what is due and has no message on its way (a lost message, a lost worker)."""
    delivery_ids = [] if sender_thread_running() else services_delivery.deliveries_due()
    queue_sends(delivery_ids)
    return len(delivery_ids)
