"""The job calls of the agent protocol (1.1 and 1.3) in process: steps handed out ahead with `then`,
their progress, the first step handed out with the claim, and a job ended by one `finish` carrying
its last step reports, log lines and runner."""

import json

import pytest

from apps.core.testing import make_team
from apps.environment.services import agent_create
from apps.log.selectors import log_lines_page
from apps.process.models import JobRun
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.process.services.engine import build_advance

pytestmark = pytest.mark.django_db(transaction=True)

PLAIN_STEPS = """name: plain
jobs:
  build:
    runs-on: [self-hosted]
    steps:
      - run: echo one
      - run: echo two
      - run: echo three
"""


@pytest.fixture
def yaml():
    return PLAIN_STEPS


@pytest.fixture
def call(client, yaml):
    project, users = make_team()
    pipeline = pipeline_create(project=project, user=users["owner"], name="plain", yaml=yaml)
    build_advance(build_start(pipeline=pipeline, user=users["owner"]).id)
    agent, secret = agent_create(
        project=project, user=users["owner"], name="a", labels=["self-hosted"], slots=1
    )
    auth = f"Agent {agent.id}:{secret}"

    def call(path: str, body: dict) -> dict:
        response = client.post(
            f"/api/agent/v1/{path}", json.dumps(body), content_type="application/json",
            HTTP_AUTHORIZATION=auth,
        )
        assert response.status_code == 200, response.content
        return response.json()

    return call


def report(index: int, status: str = "succeeded") -> dict:
    moment = "2026-01-01T00:00:00.000Z"
    return {"index": index, "attempt": 1, "status": status, "exit_code": 0, "started_at": moment,
            "finished_at": moment}


def step_statuses(job: JobRun) -> list[str]:
    return list(job.steps.order_by("index").values_list("status", flat=True))


def test_a_job_of_plain_steps_runs_on_two_calls_after_its_claim(call):
    job_id = call("claim", {"wait_seconds": 0})["job"]["id"]
    answer = call(f"jobs/{job_id}/steps/next", {"runner": {}, "completed": None})
    assert answer["step"]["index"] == 0 and not answer["step"]["last"]
    assert [(step["index"], step["run"], step["last"]) for step in answer["then"]] == [
        (1, "echo two", False), (2, "echo three", True)]

    running = {"index": 1, "attempt": 1, "started_at": "2026-01-01T00:00:01Z"}
    progress = call(f"jobs/{job_id}/steps/progress", {"completed": [report(0)], "running": running})
    job = JobRun.objects.get(id=job_id)
    assert progress == {"cancel": False}
    assert step_statuses(job) == ["succeeded", "running", "pending"]

    lines = [{"seq": seq, "text": f"line {seq}", "step": 2} for seq in (1, 2, 3)]
    finished = call(f"jobs/{job_id}/finish", {
        "status": "succeeded", "error": None, "lines": lines, "completed": [report(0), report(1), report(2)]})
    job.refresh_from_db()
    assert finished == {"stored_through": 3}
    assert job.status == "succeeded" and step_statuses(job) == ["succeeded"] * 3
    assert [line.text for line in log_lines_page(job=job, attempt=1)] == ["line 1", "line 2", "line 3"]


def test_a_failed_last_report_fails_the_job(call):
    job_id = call("claim", {"wait_seconds": 0})["job"]["id"]
    call(f"jobs/{job_id}/steps/next", {"runner": {}, "completed": None})
    call(f"jobs/{job_id}/finish", {
        "status": "failed", "error": None, "completed": [report(0), report(1, "failed")]})
    job = JobRun.objects.get(id=job_id)
    assert job.status == "failed"
    assert step_statuses(job) == ["succeeded", "failed", "skipped"]


def test_the_claim_hands_out_a_plain_first_step_and_finish_records_the_runner(call):
    job = call("claim", {"wait_seconds": 0})["job"]
    first = job["next"]
    assert (first["step"]["index"], first["step"]["run"]) == (0, "echo one")
    assert [step["index"] for step in first["then"]] == [1, 2]
    assert step_statuses(JobRun.objects.get(id=job["id"])) == ["running", "pending", "pending"]
    assert call(f"jobs/{job['id']}/steps/next", {"runner": {}, "completed": None}) == first  # an older agent

    runner = {"os": "Linux", "workspace": "/work/acme/plain/build"}
    finish = {"status": "succeeded", "error": None, "completed": [report(0), report(1), report(2)]}
    call(f"jobs/{job['id']}/finish", {**finish, "runner": runner})
    finished = JobRun.objects.get(id=job["id"])
    assert finished.status == "succeeded" and finished.runner == runner


@pytest.mark.parametrize("yaml", [
    PLAIN_STEPS.replace("echo one", "echo ${{ runner.workspace }}"),
    PLAIN_STEPS.replace("    steps:", "    env:\n      W: ${{ github.workspace }}\n    steps:"),
    PLAIN_STEPS.replace("      - run: echo one", "      - if: always()\n        run: echo one"),
])
def test_a_first_step_that_may_depend_on_the_runner_waits_for_steps_next(call):
    job = call("claim", {"wait_seconds": 0})["job"]
    assert "next" not in job
    assert step_statuses(JobRun.objects.get(id=job["id"])) == ["pending"] * 3
    assert call(f"jobs/{job['id']}/steps/next", {"runner": {}, "completed": None})["step"]["index"] == 0
