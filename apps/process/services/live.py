"""`build.changed` on the build's channel group once a status change commits, so build pages
re-fetch what they show. At most once: a lost message costs a page one refresh, never a write.
Sent through the log app's live sender (apps.log.live): off the request that caused it on Redis,
and once for a build changed several times before the sender gets to it (it reads the latest
state when it runs)."""

import logging

from django.db import transaction

from apps.log.live import build_group_send, send_soon
from apps.process.models import Build, JobRun

logger = logging.getLogger(__name__)


def build_changed_message(build_id: int) -> dict | None:
    """The build's status and its jobs' statuses, read with one query."""
    jobs = JobRun.objects.filter(build_id=build_id).order_by("id")
    rows = list(jobs.values_list("key", "status", "build__status"))
    builds = Build.objects.filter(id=build_id)
    status = rows[0][2] if rows else builds.values_list("status", flat=True).first()
    if status is None:
        return None
    return {"type": "build.changed", "status": status, "jobs": [{"key": k, "status": s} for k, s, _ in rows]}


def build_changed_publish(build_id: int, layer=None) -> None:
    try:
        message = build_changed_message(build_id)
    except Exception:  # noqa: BLE001 - a live update must never break the write that caused it
        logger.warning("reading build %s for build.changed failed", build_id, exc_info=True)
        return
    if message is not None:
        build_group_send(build_id, message, layer)


def build_changed_on_commit(build_id: int) -> None:
    def publish(layer) -> None:
        build_changed_publish(build_id, layer)

    transaction.on_commit(lambda: send_soon(publish, key=("build.changed", build_id)))
