"""Dispatch with real agents: many jobs over several agents each run exactly once, a killed agent's
job fails as lost, and a job no agent fits fails after the queue timeout."""

import re
from collections import Counter

import pytest

from apps.log.models import LogLine
from apps.process.models import JobRun, StepRun
from apps.process.services.builds import build_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BUILDS, JOBS_PER_BUILD = 8, 25
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
    started = re.compile(r"INFO job (\d+) \(.*\) started$")
    return Counter(
        int(match.group(1))
        for handle in cluster.agents
        for line in handle.child.log_path.read_text().splitlines()
        if (match := started.search(line))
    )


def test_two_hundred_jobs_over_four_agents_each_run_exactly_once(cluster, make_pipeline, owner, tmp_path):
    runs = tmp_path / "runs.txt"
    pipeline = make_pipeline("many", MANY_JOBS)
    cluster.start()
    builds = [build_start(pipeline=pipeline, user=owner, variables={"RUNS": str(runs)}) for _ in range(BUILDS)]
    cluster.start_agents(4, slots=2)

    builds = [cluster.wait_build(build, timeout=150) for build in builds]

    jobs = list(JobRun.objects.filter(build__in=builds))
    assert len(jobs) == BUILDS * JOBS_PER_BUILD == 200
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
    ran_lines = LogLine.objects.filter(job__in=jobs, text__startswith="job ", text__endswith=" ran")
    assert Counter(ran_lines.values_list("text", flat=True)) == Counter(f"job {run} ran" for run in expected_runs)
