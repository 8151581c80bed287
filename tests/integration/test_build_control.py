"""Canceling a running build and retrying a failed one through the REST API of the real server."""

import time

import pytest

from apps.log.testing import stored_log_lines
from apps.process.models import StepRun
from apps.process.services.builds import build_start
from tests.integration.harness import group_alive, job_statuses, log_stored, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CANCELED_PIPELINE = """
name: long
jobs:
  long:
    runs-on: [self-hosted]
    steps:
      - run: |
          echo $$ > "$GITHUB_WORKSPACE/long.pid"
          echo started
          sleep 60
      - if: always()
        run: echo "not after a cancel"
finally:
  cleanup:
    if: always()
    runs-on: [self-hosted]
    steps:
      - run: echo "cleaning up"
"""

RETRIED_PIPELINE = """
name: flaky
jobs:
  good:
    runs-on: [self-hosted]
    steps:
      - run: echo good
  flaky:
    runs-on: [self-hosted]
    steps:
      - run: |
          if [ ! -f "$MARK" ]; then touch "$MARK"; echo "fails once"; exit 1; fi
          echo "passes now"
  after:
    needs: flaky
    runs-on: [self-hosted]
    steps:
      - run: echo after
"""


def test_cancel_stops_the_running_job_and_still_runs_finally(cluster, make_pipeline, owner):
    pipeline = make_pipeline("long", CANCELED_PIPELINE)
    cluster.start()
    build = build_start(pipeline=pipeline, user=owner)
    cluster.start_agents(1)
    wait_until(lambda: log_stored(build, "long", "started"), 30, "started")
    job = build.jobs.get(key="long")
    pgid = int((cluster.agent_of(job).workspace(job) / "long.pid").read_text())
    assert group_alive(pgid)

    requested = time.monotonic()
    cancel = f"/api/v1/projects/it/pipelines/long/builds/{build.number}/cancel/"
    status, body = cluster.api(owner).post(cancel)
    assert (status, body["status"]) == (200, "running")
    wait_until(lambda: not group_alive(pgid), 10, "killed")
    killed_after = time.monotonic() - requested
    job = wait_until(lambda: build.jobs.filter(key="long", status="canceled").first(), 10, "canceled")
    canceled_after = time.monotonic() - requested

    build = cluster.wait_build(build, timeout=30)
    assert killed_after < 2.0
    assert canceled_after < 5
    assert job_statuses(build) == {"long": "canceled", "cleanup": "succeeded"}
    assert build.status == "canceled"
    assert build.reason == "canceled by owner"
    steps = StepRun.objects.filter(job__key="long", job__build=build).order_by("index")
    assert [step.status for step in steps] == ["canceled", "canceled"]


def test_retry_of_a_failed_build_runs_only_what_did_not_succeed(cluster, make_pipeline, owner, tmp_path):
    pipeline = make_pipeline("flaky", RETRIED_PIPELINE)
    cluster.start()
    build = build_start(pipeline=pipeline, user=owner, variables={"MARK": str(tmp_path / "flaky-ran")})
    cluster.start_agents(2)
    build = cluster.wait_build(build, timeout=30)
    assert (build.status, job_statuses(build)) == (
        "failed", {"good": "succeeded", "flaky": "failed", "after": "skipped"}
    )
    good_finished = build.jobs.get(key="good").finished_at

    retry = f"/api/v1/projects/it/pipelines/flaky/builds/{build.number}/retry/"
    status, body = cluster.api(owner).post(retry, {"only_failed": True})
    assert (status, body["attempt"]) == (200, 2)
    build = cluster.wait_build(build, timeout=30)

    assert (build.status, build.attempt) == ("succeeded", 2)
    assert job_statuses(build) == {"good": "succeeded", "flaky": "succeeded", "after": "succeeded"}
    attempts = dict(build.jobs.values_list("key", "attempt"))
    assert attempts == {"good": 1, "flaky": 2, "after": 2}
    assert build.jobs.get(key="good").finished_at == good_finished
    assert StepRun.objects.filter(job__build=build, job__key="good").count() == 1
    flaky_steps = StepRun.objects.filter(job__build=build, job__key="flaky").order_by("job_attempt")
    assert [(step.job_attempt, step.status) for step in flaky_steps] == [(1, "failed"), (2, "succeeded")]
    flaky_lines = stored_log_lines(job__build=build, job__key="flaky")
    stdout = [(stored.attempt, stored.text) for stored in flaky_lines if stored.line.stream == "stdout"]
    assert sorted(stdout) == [(1, "fails once"), (2, "passes now")]
