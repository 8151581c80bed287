"""Wake agents that long-poll for work as soon as a job is queued.

`notify_jobs_queued(count)` is called after a transaction that queued `count` jobs commits. Every
event loop that serves claims keeps one `WakeupHub`: with REDIS_URL it holds one subscription to
the signal for the whole process (a claim opens no connection of its own); on the embedded
default every part runs in one process and the signal is handed to each hub directly.

A hub wakes as many waiting claims as jobs were queued, the longest-waiting first, rather than
every one of them: the others would only find the job taken. A woken claim that finds nothing
(the job does not fit its agent, or another process's agent took it) passes the wake on to the
next waiting claim, at most once round all of them. A claim also looks again every few seconds
by itself, so a lost signal delays a job, never strands it.
"""

import asyncio
import logging
import threading
from collections import deque

from django.conf import settings

logger = logging.getLogger(__name__)

CHANNEL = "devops:dispatch:jobs-queued"
RECONNECT_SECONDS = 1.0
SUBSCRIBE_TIMEOUT_SECONDS = 1.0

_hubs: dict = {}
_hubs_lock = threading.Lock()
_client = None


def notify_jobs_queued(count: int = 1) -> None:
    if settings.REDIS_URL:
        _redis_client().publish(CHANNEL, str(count))
        return
    with _hubs_lock:
        hubs = list(_hubs.values())
    for hub in hubs:
        try:
            hub.loop.call_soon_threadsafe(hub.wake, count)
        except RuntimeError:  # the loop has closed (a test client's request loop)
            with _hubs_lock:
                _hubs.pop(hub.loop, None)


def _redis_client():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


def wake_count(message: dict) -> int:
    """How many jobs a signal says were queued (an unreadable one wakes one claim)."""
    try:
        return max(int(message.get("data") or 1), 1)
    except (TypeError, ValueError):
        return 1


class Waiter:
    """One claim's place in its hub: `woken` is set when a job may be there for it; `passes` says
    how many more claims may still be woken if this one finds nothing."""

    def __init__(self):
        self.woken = asyncio.Event()
        self.passes = 0


class WakeupHub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.waiting: deque[Waiter] = deque()
        self.subscribed = asyncio.Event()
        self.listener: asyncio.Task | None = None

    def start(self) -> None:
        if settings.REDIS_URL and self.listener is None:
            self.listener = self.loop.create_task(self.listen())
        elif not settings.REDIS_URL:
            self.subscribed.set()

    def wake(self, count: int, passes: int | None = None) -> None:
        """Wake up to `count` waiting claims, the longest-waiting first."""
        passes = len(self.waiting) - 1 if passes is None else passes
        for waiter in list(self.waiting):
            if count <= 0:
                return
            if not waiter.woken.is_set():
                waiter.passes = passes
                waiter.woken.set()
                count -= 1

    def wake_all(self) -> None:
        self.wake(len(self.waiting), passes=0)

    async def listen(self) -> None:
        import redis.asyncio

        while True:
            client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(CHANNEL)
                while True:
                    message = await pubsub.get_message(timeout=None)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self.subscribed.set()
                        self.wake_all()  # whatever was queued before the subscription
                    elif message["type"] == "message":
                        self.wake(wake_count(message))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - Redis went away: claims poll until it is back
                logger.warning("jobs-queued subscription lost; reconnecting", exc_info=True)
            finally:
                self.subscribed.clear()
                await pubsub.aclose()
                await client.aclose()
            self.wake_all()
            await asyncio.sleep(RECONNECT_SECONDS)


def hub_for_running_loop() -> WakeupHub:
    loop = asyncio.get_running_loop()
    with _hubs_lock:
        hub = _hubs.get(loop)
        if hub is None:
            for closed in [known for known in _hubs if known.is_closed()]:
                del _hubs[closed]
            hub = _hubs[loop] = WakeupHub(loop)
            hub.start()
    return hub


class JobsQueuedWaiter:
    """Join the hub (subscribed) first, check the database, then wait: a job queued in between is
    not missed, as the wake is kept until the next `wait`."""

    async def __aenter__(self):
        self.hub = hub_for_running_loop()
        self.waiter = Waiter()
        self.hub.waiting.append(self.waiter)
        try:
            await asyncio.wait_for(self.hub.subscribed.wait(), SUBSCRIBE_TIMEOUT_SECONDS)
        except TimeoutError:
            pass
        return self

    async def __aexit__(self, *exc):
        self.hub.waiting.remove(self.waiter)
        if self.waiter.woken.is_set():  # a wake this claim will not use goes to another
            self.hub.wake(1, passes=self.waiter.passes)

    async def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a queued job; True when one may be there."""
        waiter = self.waiter
        if not waiter.woken.is_set():
            try:
                await asyncio.wait_for(waiter.woken.wait(), timeout)
            except TimeoutError:
                return False
        waiter.woken.clear()
        self.hub.waiting.remove(waiter)
        self.hub.waiting.append(waiter)  # the longest-waiting claim is woken first
        return True

    def pass_on(self) -> None:
        """This claim was woken and found nothing: wake the next one, while passes are left."""
        passes, self.waiter.passes = self.waiter.passes, 0
        if passes > 0:
            self.hub.wake(1, passes=passes - 1)
