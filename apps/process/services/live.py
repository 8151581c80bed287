"""`build.changed` on the build's channel group once a status change commits, so build pages
re-fetch what they show. At most once: a lost message costs a page one refresh, never a write.

With a channel layer that crosses processes (Redis), a background thread of each process
publishes, so the agent call or engine event that changed a status does not wait for it, and a
build changed several times before the thread gets to it is published once, with its latest
state. The in-memory layer of the embedded default is published to in place: its queues belong to
the server's event loop.
"""

import logging
import threading

from django.conf import settings
from django.db import close_old_connections, transaction

from apps.log.live import build_group_send
from apps.process.models import Build, JobRun

logger = logging.getLogger(__name__)

IN_PROCESS_LAYER = "channels.layers.InMemoryChannelLayer"


def build_changed_message(build_id: int) -> dict | None:
    status = Build.objects.filter(id=build_id).values_list("status", flat=True).first()
    if status is None:
        return None
    jobs = JobRun.objects.filter(build_id=build_id).order_by("id").values_list("key", "status")
    return {"type": "build.changed", "status": status, "jobs": [{"key": k, "status": s} for k, s in jobs]}


def build_changed_publish(build_id: int) -> None:
    try:
        message = build_changed_message(build_id)
    except Exception:  # noqa: BLE001 - a live update must never break the write that caused it
        logger.warning("reading build %s for build.changed failed", build_id, exc_info=True)
        return
    if message is not None:
        build_group_send(build_id, message)


class BackgroundPublisher:
    """One daemon thread per process publishing the builds handed to it, each once per round."""

    def __init__(self):
        self._pending: dict[int, None] = {}
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, build_id: int) -> None:
        with self._condition:
            self._pending[build_id] = None
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="build-changed", daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._pending:
                    self._condition.wait()
                build_ids, self._pending = list(self._pending), {}
            for build_id in build_ids:
                build_changed_publish(build_id)
            close_old_connections()


publisher = BackgroundPublisher()


def publish_soon(build_id: int) -> None:
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] == IN_PROCESS_LAYER:
        build_changed_publish(build_id)
    else:
        publisher.submit(build_id)


def build_changed_on_commit(build_id: int) -> None:
    transaction.on_commit(lambda: publish_soon(build_id))
