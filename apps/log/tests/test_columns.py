"""Log batches in column form (agent protocol 1.3) through the agent endpoint: stored like line
objects, secrets masked, malformed ones refused with the reason, and the answer saying the server
takes them so the agent's JobApi switches to them."""

import json

import pytest

from agent import devops_agent as agent
from apps.core.testing import make_team
from apps.environment.services import agent_create
from apps.log.selectors import log_lines_page
from apps.process.models import JobRun
from apps.process.services import jobs, pipeline_create
from apps.process.services.builds import build_start
from apps.process.services.engine import build_advance

pytestmark = pytest.mark.django_db(transaction=True)

PIPELINE = "name: cols\njobs:\n  build:\n    runs-on: [self-hosted]\n    steps:\n      - run: echo one\n"


@pytest.fixture
def post(client):
    project, users = make_team()
    pipeline = pipeline_create(project=project, user=users["owner"], name="cols", yaml=PIPELINE)
    build_advance(build_start(pipeline=pipeline, user=users["owner"]).id)
    owner = users["owner"]
    machine, secret = agent_create(project=project, user=owner, name="a", labels=["self-hosted"], slots=1)
    auth = f"Agent {machine.id}:{secret}"

    def post(path: str, body: dict):
        url = f"/api/agent/v1/{path}"
        return client.post(url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=auth)

    post.job_id = post("claim", {"wait_seconds": 0}).json()["job"]["id"]
    return post


def agent_lines(first: int, texts: list[str], step=0) -> list[dict]:
    stamps = ["2026-12-06T11:00:00.001Z", "2026-12-06T11:00:00.002Z"]
    return [
        {"seq": first + index, "ts": stamps[index % 2], "step": step, "text": text, "stream": "stdout"}
        for index, text in enumerate(texts)
    ]


def stored(job_id) -> list[tuple]:
    job = JobRun.objects.get(id=job_id)
    lines = log_lines_page(job=job, attempt=1)
    return [(line.seq, line.step, line.ts, line.level, line.text) for line in lines]


def test_a_column_batch_stores_the_same_lines_as_line_objects(post):
    texts = ["plain", "::error::broken", "", "nul\x00here"]
    first = post(f"jobs/{post.job_id}/logs", {"lines": agent_lines(1, texts)})
    assert first.json()["columns"] is True
    columns = agent.log_columns(agent_lines(5, texts, step=None))
    answer = post(f"jobs/{post.job_id}/logs", {"columns": columns}).json()
    assert answer["stored_through"] == 8
    rows = stored(post.job_id)
    assert [row[2:] for row in rows[:4]] == [row[2:] for row in rows[4:]]
    assert [row[1] for row in rows] == [0] * 4 + [None] * 4
    assert rows[1][3] == "error" and rows[3][4] == "nul\ufffdhere"
    assert rows[0][2] == "2026-12-06T11:00:00.001000Z"


def test_a_resent_column_batch_is_stored_once(post):
    columns = agent.log_columns(agent_lines(1, ["a", "b", "c"]))
    for _ in range(2):
        assert post(f"jobs/{post.job_id}/logs", {"columns": columns}).json()["stored_through"] == 3
    assert [row[0] for row in stored(post.job_id)] == [1, 2, 3]


def test_secret_values_are_masked_in_column_batches(post, monkeypatch):
    secrets = {"TOKEN": "hunter2-x"}
    monkeypatch.setattr(jobs, "SECRET_PROVIDERS", [lambda build, job=None, claim=False: secrets])
    jobs._masks.clear()
    columns = agent.log_columns(agent_lines(1, ["token is hunter2-x", "fine"]))
    post(f"jobs/{post.job_id}/logs", {"columns": columns})
    assert [row[4] for row in stored(post.job_id)] == ["token is ***", "fine"]


@pytest.mark.parametrize("columns, reason", [
    ({"texts": ["a"]}, "'first_seq' must be a positive integer"),
    ({"first_seq": 1, "texts": ["a", 2]}, "'texts' must be a list of strings"),
    ({"first_seq": 1, "texts": ["a", "b"], "step": [0, 1]}, "'step' covers 1 lines, 'texts' has 2"),
    ({"first_seq": 1, "texts": ["a"], "ts": ["x", 0]}, "'ts' counts must be positive integers"),
    ({"first_seq": 1, "texts": ["a"], "stream": ["stdout"]}, "'stream' must be a list of value, count pairs"),
    ({"first_seq": 1, "texts": ["a"], "step": [0, 10**12]}, "'step' covers 1000000000000 lines"),
])
def test_a_malformed_column_batch_is_refused_with_the_reason(post, columns, reason):
    response = post(f"jobs/{post.job_id}/logs", {"columns": columns})
    assert response.status_code == 400 and reason in response.json()["error"]["message"]
    assert stored(post.job_id) == []


def test_the_agent_sends_columns_once_the_server_says_it_takes_them():
    sent = []

    class Client:
        def request(self, method, path, body):
            sent.append(body)
            return 200, {"stored_through": 0, "columns": True}

    api = agent.JobApi(Client(), "job-1")
    api.send_logs(agent_lines(1, ["a", "b"]))
    api.send_logs(agent_lines(3, ["c", "d"]))
    api.send_logs(agent_lines(5, ["e"]) + agent_lines(9, ["f"]))
    assert "lines" in sent[0]
    stamps = ["2026-12-06T11:00:00.001Z", 1, "2026-12-06T11:00:00.002Z", 1]
    columns = {"first_seq": 3, "texts": ["c", "d"], "step": [0, 2], "stream": ["stdout", 2], "ts": stamps}
    assert sent[1] == {"columns": columns}
    assert "lines" in sent[2], "seqs that are not consecutive go as line objects"
