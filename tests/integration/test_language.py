"""A multi-stage pipeline through real processes: needs, a matrix, outputs between jobs and
stages, `if: failure()`, continue-on-error, `finally`, a step timeout that kills the step's process
group, and a step retried after a first failure. Every status is the one the language implies."""

from datetime import timedelta
from pathlib import Path

import pytest

from apps.log.testing import stored_log_texts
from apps.process.language import TriggerEvent
from apps.process.models import StepRun
from apps.process.services.builds import build_start
from tests.integration.harness import group_alive, job_statuses

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PIPELINE = (Path(__file__).parent / "pipelines" / "multi-stage.yml").read_text()
PUSH = TriggerEvent(event="push", ref="refs/heads/main", sha="1" * 40, actor="owner")


def step(build, key: str, index: int) -> StepRun:
    return StepRun.objects.get(job__build=build, job__key=key, index=index)


def job_log(build, key: str) -> list[str]:
    return stored_log_texts(job__build=build, job__key=key)


def test_multi_stage_pipeline_ends_with_the_statuses_the_language_says(cluster, make_pipeline, owner):
    pipeline = make_pipeline("multi-stage", PIPELINE)
    cluster.start()
    build = build_start(pipeline=pipeline, user=owner, trigger=PUSH)
    cluster.start_agents(3)

    build = cluster.wait_build(build, timeout=60)

    assert job_statuses(build) == {
        "version": "succeeded",
        "test": ["succeeded", "succeeded"],
        "slow": "timed_out",
        "lint": "failed",
        "after-slow": "succeeded",
        "after-lint": "succeeded",
        "not-after-slow": "skipped",
        "ship": "skipped",
        "report": "succeeded",
        "on-success": "skipped",
    }
    assert [stage.status for stage in build.stages.order_by("index")] == ["timed_out", "skipped", "succeeded"]
    assert build.status == "timed_out"
    assert build.jobs.get(key="version").outputs == {"value": "2.0.1"}

    # the flaky step failed once, then its retry succeeded
    for key in ("test.0", "test.1"):
        flaky = step(build, key, 1)
        assert (flaky.status, flaky.attempt, flaky.exit_code) == ("succeeded", 2, 0)
        lines = job_log(build, key)
        assert lines.index("first attempt fails") < lines.index("second attempt passes")

    # the step timeout (0.05 min) killed the sleep's whole process group after about 3 s
    sleeper, after = step(build, "slow", 0), step(build, "slow", 1)
    assert (sleeper.status, after.status) == ("timed_out", "skipped")
    assert timedelta(seconds=2.5) <= sleeper.finished_at - sleeper.started_at <= timedelta(seconds=8)
    slow = build.jobs.get(key="slow")
    pgid = int((cluster.agent_of(slow).workspace(slow) / "sleeper.pid").read_text())
    assert not group_alive(pgid)
