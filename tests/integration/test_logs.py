"""Logs end to end over real HTTP: 1,000,000 lines posted through the agent API (as a claimed job's
agent would, batches of 5,000 on one keep-alive connection) read back exactly, in order, through
the REST API."""

import http.client
import json
import time

import pytest

from apps.environment.services import agent_create
from apps.log.testing import message_lines
from apps.process.services.builds import build_start
from tests.integration.harness import ApiClient

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

LINES, BATCH, PAGE = 1_000_000, 5000, 5000
ONE_JOB = "name: big\non: push\njobs:\n  big:\n    runs-on: [self-hosted]\n    steps:\n      - run: 'true'\n"


def text_of(seq: int) -> str:
    return f"{'::warning::slow ' if seq % 50_000 == 0 else ''}line {seq} \x1b[32mok\x1b[0m\ttab \\ backslash"


class Connection:
    """One keep-alive HTTP connection to the test server."""

    def __init__(self, port: int, headers: dict):
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.headers = headers

    def raw(self, method: str, path: str, body: dict | None = None) -> http.client.HTTPResponse:
        data = json.dumps(body).encode() if body is not None else None
        self.http.request(method, path, body=data, headers=self.headers)
        return self.http.getresponse()

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        response = self.raw(method, path, body)
        payload = response.read()
        return response.status, json.loads(payload) if payload else {}


def claim(agent_http: Connection) -> dict:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        status, answer = agent_http.call("POST", "/api/agent/v1/claim", {"free_slots": 1, "wait_seconds": 5})
        if status == 200:
            return answer["job"]
        assert status == 204, answer
    raise AssertionError("the job was not claimable within 30 s")


def test_a_million_lines_in_and_back_in_order(cluster, make_pipeline, project, owner):
    cluster.start(DEVOPS_LEASE_SECONDS="600")
    build = build_start(pipeline=make_pipeline("big", ONE_JOB), user=owner)
    agent, secret = agent_create(project=project, user=owner, name="poster", labels=["self-hosted"], slots=1)
    agent_http = Connection(cluster.port, {"Authorization": f"Agent {agent.id}:{secret}",
                                           "Content-Type": "application/json"})
    job = claim(agent_http)
    assert job["build"]["number"] == build.number

    began = time.monotonic()
    for first in range(1, LINES + 1, BATCH):
        lines = [{"seq": seq, "ts": "2025-01-31T12:00:00.000Z", "step": 0, "stream": "stdout",
                  "text": text_of(seq)} for seq in range(first, first + BATCH)]
        status, answer = agent_http.call("POST", f"/api/agent/v1/jobs/{job['id']}/logs", {"lines": lines})
        assert (status, answer["stored_through"]) == (200, first + BATCH - 1), answer
    posted = time.monotonic() - began

    reader = Connection(cluster.port, ApiClient(cluster.url, owner).headers)
    base = f"/api/v1/projects/{project.slug}/pipelines/big/builds/{build.number}/jobs/{job['key']}/logs/"
    after, expected, pages = 0, 1, 0
    began = time.monotonic()
    while True:
        status, page = reader.call("GET", f"{base}?after={after}&limit={PAGE}")
        assert status == 200, page
        assert page["total_lines"] == LINES
        if not page["lines"]:
            break
        for line in page["lines"]:
            assert (line["seq"], line["text"]) == (expected, text_of(expected))
            assert line["level"] == ("warning" if expected % 50_000 == 0 else "")
            expected += 1
        after, pages = page["next_after"], pages + 1
    read = time.monotonic() - began
    assert expected == LINES + 1 and pages == LINES // PAGE

    began = time.monotonic()
    response = reader.raw("GET", f"{base}download/")
    assert response.status == 200 and response.getheader("Content-Type") == "text/plain; charset=utf-8"
    assert response.getheader("Content-Length") is None, "streamed, not buffered"
    text = response.read().decode()
    downloaded = time.monotonic() - began
    assert text == "".join(f"{text_of(seq)}\n" for seq in range(1, LINES + 1))
    print(f"posted {LINES} lines in {posted:.1f} s ({LINES / posted:,.0f}/s), read back in {read:.1f} s, "
          f"downloaded in {downloaded:.1f} s")


def test_a_socket_gets_stored_then_live_lines_and_status_changes(cluster, make_pipeline, project, owner):
    from websockets.sync.client import connect

    cluster.start(DEVOPS_LEASE_SECONDS="600")
    build = build_start(pipeline=make_pipeline("big", ONE_JOB), user=owner)
    agent, secret = agent_create(project=project, user=owner, name="poster", labels=["self-hosted"], slots=1)
    agent_http = Connection(cluster.port, {"Authorization": f"Agent {agent.id}:{secret}",
                                           "Content-Type": "application/json"})
    url = f"ws://127.0.0.1:{cluster.port}/ws/projects/{project.slug}/pipelines/big/builds/{build.number}/"
    cookie = ApiClient(cluster.url, owner).headers["Cookie"]
    with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as browser:
        job = claim(agent_http)
        logs = f"/api/agent/v1/jobs/{job['id']}/logs"
        agent_http.call("POST", logs, {"lines": [{"seq": s, "text": text_of(s)} for s in range(1, 11)]})
        browser.send(json.dumps({"type": "subscribe", "job": job["key"], "after": 4}))
        seqs, statuses = [], []
        began = time.monotonic()
        while len(seqs) < 16:
            message = json.loads(browser.recv(timeout=10))
            if message["type"] == "build.changed":
                statuses.append({entry["key"]: entry["status"] for entry in message["jobs"]})
            elif message["type"] == "log.appended":
                seqs.extend(line.seq for line in message_lines(message))
                if seqs[-1] == 10:
                    began = time.monotonic()
                    more = [{"seq": s, "text": text_of(s)} for s in range(9, 21)]
                    agent_http.call("POST", logs, {"lines": more})
        latency = time.monotonic() - began
    assert seqs == list(range(5, 21)), "stored lines after 4, then live ones, without gap or duplicate"
    assert {"big": "running"} in statuses, "the claim was announced"
    print(f"live batch arrived {latency * 1000:.0f} ms after it was posted")
