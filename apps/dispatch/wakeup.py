"""Wake agents that long-poll for work as soon as a job is queued.

`notify_jobs_queued()` is called after a transaction that queued jobs commits;
`wait_for_jobs(timeout)` returns when one was (or at the timeout). With REDIS_URL the signal
crosses processes through Redis pub/sub; on the embedded default every part runs in one process
and an in-memory counter is enough.
"""

import asyncio
import threading

from django.conf import settings

CHANNEL = "devops:dispatch:jobs-queued"
POLL_SECONDS = 0.01

_counter_lock = threading.Lock()
_counter = 0


def notify_jobs_queued() -> None:
    global _counter
    with _counter_lock:
        _counter += 1
    if settings.REDIS_URL:
        _redis_client().publish(CHANNEL, "1")


_client = None


def _redis_client():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client


class JobsQueuedWaiter:
    """Subscribe first, check the database, then wait: a job queued in between is not missed."""

    def __init__(self):
        self._seen = _counter
        self._pubsub = None

    async def __aenter__(self):
        if settings.REDIS_URL:
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(settings.REDIS_URL)
            self._pubsub = self._redis.pubsub()
            await self._pubsub.subscribe(CHANNEL)
            await self._pubsub.get_message(timeout=1.0)  # the subscription confirmation
        return self

    async def __aexit__(self, *exc):
        if self._pubsub is not None:
            await self._pubsub.aclose()
            await self._redis.aclose()

    async def wait(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for a queued job; True when one may be there."""
        if self._pubsub is not None:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=timeout)
            return message is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if _counter != self._seen:
                self._seen = _counter
                return True
            await asyncio.sleep(POLL_SECONDS)
        return False
