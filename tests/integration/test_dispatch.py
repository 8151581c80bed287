"""Dispatch with real agents: many jobs over several agents each run exactly once, a killed agent's
job fails as lost, and a job no agent fits fails after the queue timeout."""

import re
import signal
import time
from collections import Counter

import pytest

from apps.log.models import LogLine
from apps.process.models import JobRun, StepRun
from apps.process.services.builds import build_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

JOB_COUNT = 200
MANY_JOBS = f"""
name: many
jobs:
  one:
    runs-on: [self-hosted]
    strategy:
      fail-fast: false
      matrix:
        n: [{", ".join(str(n) for n in range(1, JOB_COUNT + 1))}]
    steps:
      - run: echo "${{{{ matrix.n }}}} $RUNNER_NAME" >> "$RUNS"; echo "job ${{{{ matrix.n }}}} ran"
"""


def claims_in_agent_logs(cluster) -> Counter:
    started = re.compile(r"INFO job (\\d+) \\(.*\\) started$")
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
    build = build_start(pipeline=pipeline, user=owner, variables={"RUNS": str(runs)})
    cluster.start_agents(4, slots=2)

    build = cluster.wait_build(build, timeout=150)

    assert build.status == "succeeded"
    jobs = list(build.jobs.all())
    assert len(jobs) == JOB_COUNT
    assert Counter(job.status for job in jobs) == {"succeeded": JOB_COUNT}
    assert {job.attempt for job in jobs} == {1}
    ran = Counter(line.split()[0] for line in runs.read_text().splitlines())
    assert ran == Counter({str(n): 1 for n in range(1, JOB_COUNT + 1)})
    assert len({line.split()[1] for line in runs.read_text().splitlines()}) == 4
    assert claims_in_agent_logs(cluster) == Counter({job.id: 1 for job in jobs})
    steps = StepRun.objects.filter(job__build=build)
    assert Counter(steps.values_list("job_id", "job_attempt", "attempt", "status")) == Counter(
        {(job.id, 1, 1, "succeeded"): 1 for job in jobs}
    )
    ran_lines = LogLine.objects.filter(job__build=build, text__regex=r"^job \d+ ran$")
    assert sorted(ran_lines.values_list("text", flat=True)) == sorted(f"job {n} ran" for n in range(1, 201))
