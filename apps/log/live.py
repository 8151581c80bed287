"""Live updates of a build over the channel layer: one group per build, `build-{build_id}`.

Delivery is at most once and the database is the record, so a failed publish is logged and
forgotten: it never fails the ingest or the engine that asked for it.
"""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from apps.log.lines import line_payload

logger = logging.getLogger(__name__)

LIVE_BATCH_LINES = 1000


def build_group_name(build_id: int) -> str:
    return f"build-{build_id}"


def build_group_send(build_id: int, message: dict) -> None:
    """Send one message to the build's group now; errors are logged, never raised."""
    try:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(build_group_name(build_id), message)
    except Exception:  # noqa: BLE001 - a live update must never break the write that caused it
        logger.warning("publishing %s to build %s failed", message.get("type"), build_id, exc_info=True)


def log_batches(*, job_key: str, attempt: int, lines: list) -> list[dict]:
    """`log.appended` messages of at most LIVE_BATCH_LINES lines each."""
    payloads = [line_payload(line) for line in lines]
    return [
        {"type": "log.appended", "job": job_key, "attempt": attempt, "lines": payloads[start:end]}
        for start in range(0, len(payloads), LIVE_BATCH_LINES)
        for end in [start + LIVE_BATCH_LINES]
    ]


def log_appended_on_commit(*, build_id: int, job_key: str, attempt: int, lines: list) -> None:
    """Publish stored lines to the build's group once the current transaction commits."""
    if not lines:
        return

    def publish():
        try:
            messages = log_batches(job_key=job_key, attempt=attempt, lines=lines)
        except Exception:  # noqa: BLE001 - see build_group_send
            logger.warning("shaping log lines of build %s failed", build_id, exc_info=True)
            return
        for message in messages:
            build_group_send(build_id, message)

    transaction.on_commit(publish)
