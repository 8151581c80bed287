"""Publishing to the build's group on commit: ingest's `log.appended`, the engine's `build.changed`,
and a channel layer that is down never failing the write."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from apps.log.chunks import chunk_decode
from apps.log.live import BackgroundSender, build_group_name, build_group_send, job_log_group_name
from apps.log.services import log_lines_append
from apps.log.testing import stored_log_texts
from apps.process.choices import Status
from apps.process.services.engine import build_advance

pytestmark = pytest.mark.django_db(transaction=True)
UNREACHABLE_REDIS = {
    "default": {"BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": ["redis://127.0.0.1:9/0"]}}
}


def received_after(group: str, act, wanted, count: int = 1, layer=None) -> list[dict]:
    """Join `group` with a new channel, run `act()` (sync, off the loop), then return the first
    `count` messages `wanted(message)` accepts: `build.changed` is published from a background
    thread, so one about an earlier commit (the fixture's) may come first. One event loop
    throughout: a Redis layer's channels belong to the loop that made them."""
    layer = layer or get_channel_layer()

    async def scenario() -> list[dict]:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
        await database_sync_to_async(act)()
        found = []
        for _ in range(20 + count):
            message = await asyncio.wait_for(layer.receive(channel), 10)
            found += [message] if wanted(message) else []
            if len(found) == count:
                return found
        raise AssertionError("the wanted messages did not come")

    return async_to_sync(scenario)()


def test_a_stored_batch_is_published_to_its_job_once_committed(start):
    build = start()
    job = build.jobs.get(key="compile")

    def append():
        with transaction.atomic():
            log_lines_append(job=job, attempt=1, lines=[{"seq": s, "text": f"::error::{s}"} for s in (1, 2)])
            log_lines_append(job=job, attempt=1, lines=[{"seq": 2, "text": "again"}])

    group = job_log_group_name(job.id)
    message, = received_after(group, append, lambda message: message["type"] == "log.appended")
    assert (message["job"], message["attempt"]) == ("compile", 1)
    lines = chunk_decode(message["first_seq"], message["line_count"], message["text"], message["meta"])
    expected = [(1, "error", "::error::1"), (2, "error", "::error::2")]
    assert [(line.seq, line.level, line.text) for line in lines] == expected


def test_the_engine_publishes_build_changed_when_it_writes(start):
    build = start()
    message, = received_after(
        build_group_name(build.id), lambda: build_advance(build.id),
        lambda message: message.get("status") == Status.RUNNING,
    )
    assert message["type"] == "build.changed"
    assert Status.QUEUED in {job["status"] for job in message["jobs"]}


@override_settings(CHANNEL_LAYERS=UNREACHABLE_REDIS)
def test_a_channel_layer_that_is_down_fails_neither_ingest_nor_engine(start):
    build = start()
    job = build.jobs.get(key="compile")
    assert log_lines_append(job=job, attempt=1, lines=[{"seq": 1, "text": "kept"}]) == 1
    assert stored_log_texts(job=job) == ["kept"]
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == Status.RUNNING


class LoopNotingLayer:
    """The configured layer, noting the event loop each group_send runs on."""

    def __init__(self, layer):
        self.layer, self.loops = layer, []

    async def group_send(self, group, message):
        self.loops.append(asyncio.get_running_loop())
        await self.layer.group_send(group, message)


@pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs Redis (REDIS_URL): the sender thread serves cross-process layers"
)
def test_the_sender_thread_publishes_in_order_on_one_event_loop(start):
    """One loop for the thread's life, so the layer's Redis connections outlive a send
    (async_to_sync would start a thread, a loop and a connection for each)."""
    build = start()
    layer = get_channel_layer()
    noting = LoopNotingLayer(layer)

    def send_pings():
        sender = BackgroundSender()
        for number in range(20):
            message = {"type": "ping", "n": number}
            sender.submit(lambda layer, message=message: build_group_send(build.id, message, layer), noting)

    pings = received_after(build_group_name(build.id), send_pings, lambda message: message["type"] == "ping",
                           count=20, layer=layer)
    assert [message["n"] for message in pings] == list(range(20))
    assert len(noting.loops) == 20 and len(set(noting.loops)) == 1
