"""The sweep moves on the builds a lost event left behind, and only those."""

import pytest
from django.utils import timezone

from apps.core.testing import make_team
from apps.dispatch.services import stalled_build_ids
from apps.process.models import Build, JobRun
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start

pytestmark = pytest.mark.django_db

TWO_JOBS = """name: two
jobs:
  a:
    runs-on: [self-hosted]
    steps: [{run: echo a}]
  b:
    needs: a
    runs-on: [self-hosted]
    steps: [{run: echo b}]
"""


@pytest.fixture
def start():
    project, users = make_team()
    pipeline = pipeline_create(project=project, user=users["owner"], name="two", yaml=TWO_JOBS)

    def start(build_status: str, job_statuses: dict[str, str] | None = None, **fields) -> Build:
        build = build_start(pipeline=pipeline, user=users["owner"])
        Build.objects.filter(id=build.id).update(status=build_status, **fields)
        for key, status in (job_statuses or {}).items():
            JobRun.objects.filter(build=build, key=key).update(status=status)
        return build

    return start


def test_builds_no_job_or_event_moves_on_are_stalled(start):
    never_started = start("pending")
    between_jobs = start("running", {"a": "succeeded"})
    waiting_in_its_group = start("queued")
    cancel_not_applied = start("running", {"a": "running"}, cancel_requested_at=timezone.now())

    assert stalled_build_ids() == {
        never_started.id, between_jobs.id, waiting_in_its_group.id, cancel_not_applied.id
    }


def test_builds_with_work_under_way_or_waiting_for_people_or_finished_are_not(start):
    start("running", {"a": "running"})
    start("running", {"a": "succeeded", "b": "queued"})
    start("waiting_review")
    start("blocked")
    start("succeeded", {"a": "succeeded", "b": "succeeded"})
    start("canceled", cancel_requested_at=timezone.now())

    assert stalled_build_ids() == set()


def test_a_job_nobody_took_in_time_fails_saying_whether_any_agent_fits(start, settings):
    from datetime import timedelta

    from apps.dispatch.services import jobs_sweep
    from apps.environment.models import Agent

    settings.DEVOPS_QUEUE_TIMEOUT_SECONDS = 60
    long_ago = timezone.now() - timedelta(minutes=5)
    nobody_fits = start("running", {"a": "queued"})
    JobRun.objects.filter(build=nobody_fits).update(queued_at=long_ago)
    jobs_sweep()
    assert JobRun.objects.get(build=nobody_fits, key="a").reason == (
        "no agent has labels ['self-hosted']: none took the job within 60 s"
    )

    Agent.objects.create(name="busy-1", labels=["self-hosted", "linux"], secret_hash="x")
    all_busy = start("running", {"a": "queued"})
    JobRun.objects.filter(build=all_busy).update(queued_at=long_ago)
    jobs_sweep()
    assert JobRun.objects.get(build=all_busy, key="a").reason == (
        "the agents with labels ['self-hosted'] (busy-1) were busy, offline or disabled within 60 s"
    )
