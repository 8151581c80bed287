"""The server or the worker goes away in the middle of a build and comes back: nothing is lost.

On the embedded default the worker lives in the server process, so "kill the worker" means
killing the server (and with it the in-memory broker and whatever events it held)."""

import time

import pytest

from apps.log.testing import stored_log_lines
from apps.process import tasks
from apps.process.models import StepRun
from apps.process.services.builds import build_start
from tests.integration.harness import job_statuses, log_stored, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHATTY = """
name: chatty
jobs:
  chatty:
    runs-on: [self-hosted]
    steps:
      - run: for i in $(seq 1 150); do echo "line $i"; sleep 0.1; done
"""

THREE_JOBS = """
name: chain
jobs:
  first:
    runs-on: [self-hosted]
    steps:
      - run: echo started; sleep 2
  second:
    needs: first
    runs-on: [self-hosted]
    steps:
      - run: echo second
  third:
    needs: second
    runs-on: [self-hosted]
    steps:
      - run: echo third
"""


def test_logs_survive_a_server_outage_exactly_once_and_in_order(cluster, make_pipeline, owner):
    pipeline = make_pipeline("chatty", CHATTY)
    cluster.start(DEVOPS_LEASE_SECONDS="30")  # the outage must not outlast the lease
    build = build_start(pipeline=pipeline, user=owner)
    cluster.start_agents(1)
    wait_until(lambda: log_stored(build, "chatty", "line 20"), 30, "logging")

    cluster.kill_server()
    time.sleep(6)
    assert StepRun.objects.get(job__build=build).status == "running"
    cluster.start_server()
    build = cluster.wait_build(build, timeout=60)

    assert (build.status, job_statuses(build)) == ("succeeded", {"chatty": "succeeded"})
    lines = [stored.line for stored in stored_log_lines(job__build=build)]
    seqs = [line.seq for line in lines]
    assert seqs == list(range(1, len(seqs) + 1))
    output = [line.text for line in lines if line.stream == "stdout"]
    assert output == [f"line {n}" for n in range(1, 151)]
    assert lines[-1].text == "Job finished: succeeded"


def test_a_build_finishes_after_its_worker_is_killed_and_replaced(cluster, make_pipeline, owner):
    pipeline = make_pipeline("chain", THREE_JOBS)
    cluster.start()
    build = build_start(pipeline=pipeline, user=owner)
    cluster.start_agents(1)
    wait_until(lambda: log_stored(build, "first", "started"), 30, "started")

    if cluster.uses_redis:
        cluster.kill_worker()
        wait_until(lambda: build.jobs.filter(key="first", status="succeeded").exists(), 30, "first done")
        time.sleep(1.5)
        assert build.jobs.get(key="second").status == "pending"
        cluster.start_worker()
    else:
        cluster.kill_server()
        time.sleep(1)
        cluster.start_server()
    build = cluster.wait_build(build, timeout=30)

    assert (build.status, job_statuses(build)) == (
        "succeeded", {"first": "succeeded", "second": "succeeded", "third": "succeeded"}
    )


def test_a_build_whose_start_event_was_lost_is_moved_on_by_the_sweep(
    cluster, make_pipeline, owner, monkeypatch
):
    pipeline = make_pipeline("chain", THREE_JOBS)
    cluster.start()
    cluster.start_agents(1)
    with monkeypatch.context() as lossy_broker:
        lossy_broker.setattr(tasks.build_advance_task, "delay", lambda *args, **kwargs: None)
        build = build_start(pipeline=pipeline, user=owner)
    assert build.status == "pending"

    build = cluster.wait_build(build, timeout=30)

    assert (build.status, job_statuses(build)) == (
        "succeeded", {"first": "succeeded", "second": "succeeded", "third": "succeeded"}
    )
