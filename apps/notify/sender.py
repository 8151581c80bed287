"""Deliveries sent by a thread of this process instead of the `notify` queue.

The embedded default runs one Celery worker thread for every queue, so a receiver that hangs
would hold up the engine's events behind it. There, `devops.embedded` starts this thread and the
notify tasks stop queueing `delivery_send`: the thread sends whatever is due (first attempts and
retries alike) twice a second. Production keeps the queue and its own workers.
"""

import logging
import threading
import time

from django.db import close_old_connections

from apps.notify.services_delivery import deliveries_due, delivery_attempt

logger = logging.getLogger(__name__)
_started = threading.Event()


def sender_thread_running() -> bool:
    return _started.is_set()


def start_sender_thread(interval: float = 0.5) -> None:
    if _started.is_set():
        return
    _started.set()
    threading.Thread(target=_send_forever, args=(interval,), name="notify-sender", daemon=True).start()


def send_due() -> int:
    """Attempt every delivery that is due now; how many were attempted."""
    delivery_ids = deliveries_due()
    for delivery_id in delivery_ids:
        delivery_attempt(delivery_id=delivery_id)
    return len(delivery_ids)


def _send_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            send_due()
        except Exception:
            logger.exception("sending notifications failed; trying again")
        finally:
            close_old_connections()
