"""Live updates of a build over the channel layer: one group per build, `build-{build_id}`, for
status changes, and one per job, `log-job-{job_id}`, for its log lines.

Delivery is at most once and the database is the record, so a failed publish is logged and
forgotten: it never fails the ingest or the engine that asked for it.

With a channel layer that crosses processes (Redis), one background thread per process sends, in
order, so the agent call or engine event that caused a message does not wait for it; a job queued
under a key that is already waiting is dropped (`build.changed` reads the latest state when it
runs). The thread keeps one event loop, so the layer's Redis connections outlive a send
(`async_to_sync` would start a thread, a loop and a connection for each). The in-memory layer of
the embedded default is sent to in place: its queues belong to the server's event loop.
"""

import asyncio
import logging
import threading
from collections import deque
from collections.abc import Callable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import close_old_connections, transaction

logger = logging.getLogger(__name__)

LIVE_BATCH_LINES = 1000


def build_group_name(build_id: int) -> str:
    """The group of every socket on the build page: `build.changed`."""
    return f"build-{build_id}"


def job_log_group_name(job_id: int) -> str:
    """The group of the sockets following a job's log: its `log.appended` batches, so a socket
    receives only the job it shows, however many jobs of the build print."""
    return f"log-job-{job_id}"


def group_send_now(group: str, message: dict, layer=None) -> None:
    """Send one message to a group now (through `layer`, else the configured one); errors are
    logged, never raised."""
    try:
        layer = layer or get_channel_layer()
        if layer is None:
            return
        loop = getattr(sender_loop, "loop", None)
        if loop is not None:
            loop.run_until_complete(layer.group_send(group, message))
        else:
            async_to_sync(layer.group_send)(group, message)
    except Exception:  # noqa: BLE001 - a live update must never break the write that caused it
        logger.warning("publishing %s to %s failed", message.get("type"), group, exc_info=True)


def build_group_send(build_id: int, message: dict, layer=None) -> None:
    group_send_now(build_group_name(build_id), message, layer)


IN_PROCESS_LAYER = "channels.layers.InMemoryChannelLayer"
sender_loop = threading.local()


class BackgroundSender:
    """One daemon thread per process running the send jobs handed to it, first in, first out.
    Each job gets the channel layer its caller resolved: the thread never reads the settings."""

    def __init__(self):
        self._queue: deque = deque()
        self._keys: set = set()
        self._condition = threading.Condition()
        self._thread: threading.Thread | None = None

    def submit(self, job: Callable, layer, key=None) -> None:
        with self._condition:
            if key is not None and key in self._keys:
                return
            self._queue.append((key, job, layer))
            if key is not None:
                self._keys.add(key)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="live-sender", daemon=True)
                self._thread.start()
            self._condition.notify()

    def _run(self) -> None:
        sender_loop.loop = asyncio.new_event_loop()
        while True:
            with self._condition:
                while not self._queue:
                    close_old_connections()
                    self._condition.wait()
                key, job, layer = self._queue.popleft()
                self._keys.discard(key)
            try:
                job(layer)
            except Exception:  # noqa: BLE001 - see group_send_now
                logger.warning("a live update failed", exc_info=True)


sender = BackgroundSender()


def send_soon(job: Callable, key=None) -> None:
    """Run a send job `job(layer)`: in place on the in-memory layer, else on the background thread."""
    layer = get_channel_layer()
    if settings.CHANNEL_LAYERS["default"]["BACKEND"] == IN_PROCESS_LAYER:
        job(layer)
    else:
        sender.submit(job, layer, key)


def log_appended_on_commit(*, job_id: int, job_key: str, attempt: int, chunk) -> None:
    """Publish stored lines, a chunk (apps/log/chunks.py) as it is stored, to the job's log group
    once the current transaction commits; the consumers forward it as it is, so no server process
    looks at its lines one by one."""
    if chunk is None:
        return
    message = {
        "type": "log.appended", "job": job_key, "attempt": attempt, "first_seq": chunk.first_seq,
        "last_seq": chunk.last_seq, "line_count": chunk.line_count, "text": chunk.text, "meta": chunk.meta,
    }
    group = job_log_group_name(job_id)
    transaction.on_commit(lambda: send_soon(lambda layer: group_send_now(group, message, layer)))
