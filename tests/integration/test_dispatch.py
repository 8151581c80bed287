"""Dispatch with real agents: many jobs over several agents each run exactly once, a killed agent's
job fails as lost, and a job no agent fits fails after the queue timeout."""

import os
import re
import signal
import time
from collections import Counter

import pytest

from apps.log.testing import stored_log_texts
from apps.process.models import JobRun, StepRun
from apps.process.services.builds import build_start
from tests.integration.harness import group_alive, job_statuses, log_stored, wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BUILDS, JOBS_PER_BUILD = 20, 25
MANY_JOBS = f"""
name: many
jobs:
  one:
    runs-on: [self-hosted]
    strategy:
      matrix:
        n: [{", ".join(str(n) for n in range(1, JOBS_PER_BUILD + 1))}]
    steps:
      - run: |
          echo "${{{{ ci.build_number }}}}.${{{{ matrix.n }}}} $RUNNER_NAME" >> "$RUNS"
          echo "job ${{{{ ci.build_number }}}}.${{{{ matrix.n }}}} ran"
"""


def claims_in_agent_logs(cluster) -> Counter:
    started = re.compile(r"\bjob (\d+) \(.*\) started$")
    return Counter(
        int(match.group(1))
        for handle in cluster.agents
        for line in handle.child.log_path.read_text().splitlines()
        if (match := started.search(line))
    )


def test_five_hundred_jobs_over_four_agents_each_run_exactly_once(cluster, make_pipeline, owner, tmp_path):
    runs = tmp_path / "runs.txt"
    pipeline = make_pipeline("many", MANY_JOBS)
    cluster.start(DEVOPS_LEASE_SECONDS="20")  # a loaded SQLite server can answer a heartbeat 2-3 s late
    variables = {"RUNS": str(runs)}
    builds = [build_start(pipeline=pipeline, user=owner, variables=variables) for _ in range(BUILDS)]
    cluster.start_agents(4, slots=2)

    builds = [cluster.wait_build(build, timeout=240) for build in builds]

    jobs = list(JobRun.objects.filter(build__in=builds))
    assert len(jobs) == BUILDS * JOBS_PER_BUILD == 500
    assert [(job.key, job.status, job.reason) for job in jobs if job.status != "succeeded"] == []
    assert {build.status for build in builds} == {"succeeded"}
    assert {job.attempt for job in jobs} == {1}
    expected_runs = {f"{build.number}.{n}" for build in builds for n in range(1, JOBS_PER_BUILD + 1)}
    runs_lines = [line.split() for line in runs.read_text().splitlines()]
    assert Counter(run for run, _ in runs_lines) == Counter(expected_runs)
    assert len({agent for _, agent in runs_lines}) == 4
    assert claims_in_agent_logs(cluster) == Counter(job.id for job in jobs)
    steps = StepRun.objects.filter(job__in=jobs)
    assert Counter(steps.values_list("job_id", "job_attempt", "attempt", "status")) == Counter(
        (job.id, 1, 1, "succeeded") for job in jobs
    )
    texts = stored_log_texts(job__in=jobs)
    ran_lines = [text for text in texts if text.startswith("job ") and text.endswith(" ran")]
    expected_lines = Counter(f"job {run} ran" for run in expected_runs)
    assert Counter(ran_lines) == expected_lines


LOST_AGENT = """
name: lost
jobs:
  victim:
    runs-on: [self-hosted]
    steps:
      - run: |
          echo $$ > "$GITHUB_WORKSPACE/victim.pid"
          echo started
          sleep 30
finally:
  report:
    if: failure()
    runs-on: [self-hosted]
    steps:
      - run: echo "the build failed"
"""


def test_a_killed_agents_job_fails_as_lost_within_the_lease_and_a_sweep(cluster, make_pipeline, owner):
    pipeline = make_pipeline("lost", LOST_AGENT)
    cluster.start()  # lease 5 s, sweep every 1 s
    build = build_start(pipeline=pipeline, user=owner)
    cluster.start_agents(2)
    wait_until(lambda: log_stored(build, "victim", "started"), 30, "started")
    victim = build.jobs.get(key="victim")
    handle = cluster.agent_of(victim)
    orphan = int((handle.workspace(victim) / "victim.pid").read_text())

    handle.child.kill()
    killed = time.monotonic()
    wait_until(lambda: build.jobs.get(key="victim").status != "running", 15, "lost")
    lost_after = time.monotonic() - killed
    build = cluster.wait_build(build, timeout=30)

    victim = build.jobs.get(key="victim")
    assert lost_after <= 5 + 1 + 1.5
    assert victim.status == "failed"
    assert victim.reason.startswith(f"agent lost: no heartbeat from {handle.agent.name}")
    assert (build.status, job_statuses(build)) == ("failed", {"victim": "failed", "report": "succeeded"})
    assert group_alive(orphan)  # a SIGKILLed agent cannot clean up; the harness does
    os.killpg(orphan, signal.SIGKILL)


REQUEUED = """
name: requeued
jobs:
  victim:
    runs-on: [self-hosted]
    retry: { max: 1, when: [agent-lost] }
    steps:
      - run: |
          echo $$ > "$GITHUB_WORKSPACE/victim.pid"
          echo started
          if [ ! -e "$MARK" ]; then touch "$MARK"; sleep 30; fi
"""


def test_a_killed_agents_job_runs_again_on_another_agent_when_its_retry_says_so(
    cluster, make_pipeline, owner, tmp_path
):
    pipeline = make_pipeline("requeued", REQUEUED)
    cluster.start()  # lease 5 s, sweep every 1 s
    build = build_start(pipeline=pipeline, user=owner, variables={"MARK": str(tmp_path / "first-run")})
    cluster.start_agents(2)
    wait_until(lambda: log_stored(build, "victim", "started"), 30, "started")
    victim = build.jobs.get(key="victim")
    handle = cluster.agent_of(victim)
    orphan = int((handle.workspace(victim) / "victim.pid").read_text())

    handle.child.kill()
    build = cluster.wait_build(build, timeout=40)

    victim = build.jobs.get(key="victim")
    assert (build.status, victim.status, victim.attempt) == ("succeeded", "succeeded", 2)
    assert victim.lost_agent_retries == 1
    assert victim.agent_id != handle.agent.id
    steps = StepRun.objects.filter(job=victim).order_by("job_attempt").values_list("job_attempt", "status")
    assert list(steps) == [(1, "running"), (2, "succeeded")]
    os.killpg(orphan, signal.SIGKILL)


UNFIT_JOB = """
name: unfit
jobs:
  gpu:
    runs-on: [self-hosted, gpu, cuda-12]
    steps:
      - run: echo "no agent has a GPU"
  cpu:
    runs-on: [self-hosted]
    steps:
      - run: echo "runs"
"""


def test_a_job_no_agent_fits_fails_after_the_queue_timeout(cluster, make_pipeline, owner):
    pipeline = make_pipeline("unfit", UNFIT_JOB)
    cluster.start(DEVOPS_QUEUE_TIMEOUT_SECONDS="2")
    build = build_start(pipeline=pipeline, user=owner)
    cluster.start_agents(1)

    build = cluster.wait_build(build, timeout=30)

    assert (build.status, job_statuses(build)) == ("failed", {"gpu": "failed", "cpu": "succeeded"})
    gpu = build.jobs.get(key="gpu")
    assert gpu.reason == "no agent has labels ['cuda-12', 'gpu', 'self-hosted']: none took the job within 2 s"
    assert 2 <= (gpu.finished_at - gpu.queued_at).total_seconds() <= 2 + 1 + 2
    assert gpu.agent is None
    assert not StepRun.objects.filter(job=gpu).exclude(status="pending").exclude(status="skipped").exists()
