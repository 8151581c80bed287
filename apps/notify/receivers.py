"""The receiver of `build_event`: it only queues the notify task (quick, never raises)."""

import logging

from apps.process.signals import build_event

logger = logging.getLogger(__name__)


def build_event_received(sender, build_id: int, event: str, stage_index: int | None = None, **_) -> None:
    from apps.notify.tasks import notify_build_event

    try:
        notify_build_event.delay(build_id, event, stage_index)
    except Exception:  # a broker hiccup must never reach the engine
        logger.exception("could not queue notifications of %s for build %s", event, build_id)


def connect_receivers() -> None:
    build_event.connect(build_event_received, dispatch_uid="apps.notify.build_event")
