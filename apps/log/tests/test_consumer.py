"""The build websocket (BuildLogConsumer) with channels' WebsocketCommunicator: who may connect,
resume from `after` without gaps or duplicates, live batches after subscribe, build.changed."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client, override_settings

from apps.log.services import log_lines_append
from apps.log.testing import message_lines
from apps.log.tests.conftest import worker_layers
from apps.process.services.live import build_changed_on_commit
from devops import settings as project_settings
from devops.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)
REDIS_DEFAULT_SOCKET_TIMEOUT = 5


def session_cookie(user) -> list[tuple[bytes, bytes]]:
    client = Client()
    client.force_login(user)
    return [(b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())]


def socket(build, user=None, number=None) -> WebsocketCommunicator:
    path = f"/ws/projects/acme/pipelines/release/builds/{number or build.number}/"
    return WebsocketCommunicator(application, path, headers=session_cookie(user) if user else [])


def append(job, first: int, last: int) -> None:
    lines = [{"seq": seq, "text": f"line {seq}"} for seq in range(first, last + 1)]
    log_lines_append(job=job, attempt=1, lines=lines)


async def closed_with(communicator) -> int:
    connected, _ = await communicator.connect()
    assert connected, "the socket is accepted, then closed with a code"
    message = await communicator.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    await communicator.disconnect()  # the consumer ends before the test's event loop does
    return message["code"]


async def received_seqs(communicator, until: int) -> list[int]:
    seqs: list[int] = []
    while not seqs or seqs[-1] < until:
        message = await communicator.receive_json_from(timeout=5)
        if message["type"] == "log.appended":
            assert message["job"] == "compile" and message["attempt"] == 1
            lines = message_lines(message)
            assert message["line_count"] == len(lines) and message["last_seq"] == lines[-1].seq
            seqs.extend(line.seq for line in lines)
    return seqs


@pytest.mark.parametrize(("role", "code"), [("anonymous", 4401), ("outsider", 4403)])
def test_anonymous_and_non_members_are_refused(start, users, role, code):
    build = start()
    communicator = socket(build, None if role == "anonymous" else users[role])
    assert async_to_sync(closed_with)(communicator) == code


def test_a_missing_build_is_4404_for_a_member(start, users):
    build = start()
    assert async_to_sync(closed_with)(socket(build, users["viewer"], number=999)) == 4404


def test_a_member_resumes_after_a_line_then_gets_live_batches(start, users):
    build = start()
    job = build.jobs.get(key="compile")
    append(job, 1, 2500)
    communicator = socket(build, users["viewer"])

    async def scenario():
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "subscribe", "job": "compile", "after": 700})
        resumed = await received_seqs(communicator, 2500)
        assert resumed == list(range(701, 2501)), "stored lines in order, no gap, no duplicate"
        await database_sync_to_async(append)(job, 2490, 2600)
        live = await received_seqs(communicator, 2600)
        assert live == list(range(2501, 2601)), "only the new lines of the resent batch"
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_build_changed_and_other_jobs_lines(start, users):
    build = start()

    def change():
        append(build.jobs.get(key="test.0"), 1, 3)
        build_changed_on_commit(build.id)

    communicator = socket(build, users["viewer"])

    async def scenario():
        await communicator.connect()
        await communicator.send_json_to({"type": "subscribe", "job": "compile", "after": 0})
        await database_sync_to_async(change)()
        message = await communicator.receive_json_from(timeout=5)
        assert message["type"] == "build.changed", "lines of a job not followed are not sent"
        assert message["status"] == build.status
        assert {job["key"] for job in message["jobs"]} == {"compile", "test.0", "test.1"}
        await communicator.send_json_to({"type": "subscribe", "job": "nope"})
        assert (await communicator.receive_json_from(timeout=5))["type"] == "error"
        await communicator.disconnect()

    async_to_sync(scenario)()


@pytest.mark.skipif(not settings.REDIS_URL, reason="needs Redis (REDIS_URL): the channel layer's connections")
def test_a_socket_quiet_for_longer_than_the_redis_socket_timeout_still_gets_lines(start, users):
    """redis-py 8 closes a connection quiet for its socket timeout, 5 s by default: the consumer
    once died after 5 s without a message (devops/settings.py)."""
    build = start()
    job = build.jobs.get(key="compile")
    communicator = socket(build, users["viewer"])
    layers = worker_layers(*project_settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"])

    async def scenario():
        await communicator.connect()
        await communicator.send_json_to({"type": "subscribe", "job": "compile", "after": 0})
        await asyncio.sleep(REDIS_DEFAULT_SOCKET_TIMEOUT + 1.5)
        await database_sync_to_async(append)(job, 1, 3)
        assert await received_seqs(communicator, 3) == [1, 2, 3]
        await communicator.disconnect()

    with override_settings(CHANNEL_LAYERS=layers):  # the project's socket options, not a bare URL
        async_to_sync(scenario)()
