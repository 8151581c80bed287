"""Cron schedules: synced with the current version, due ones started once each, never twice at once."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.core.testing import make_team
from apps.process import services
from apps.process.models import Build, PipelineSchedule
from apps.process.services.schedules import cron_next, schedules_run_due, schedules_sync
from apps.process.tasks import schedules_run_due_task

NOON = datetime(2030, 1, 7, 12, 2, tzinfo=UTC)

JOBS = """jobs:
  build:
    runs-on: [linux]
    steps:
      - run: make
"""
NIGHTLY = """name: nightly
on:
  schedule:
    - cron: "*/5 * * * *"
    - cron: "0 3 * * *"
""" + JOBS
HOURLY = """name: hourly
on:
  schedule: [{cron: "0 * * * *"}]
""" + JOBS
ON_BRANCHES = """name: branches
on:
  schedule:
    - cron: "0 * * * *"
      branches: [develop, "release/*"]
""" + JOBS
ONLY_PATTERNS = """name: patterns
on:
  schedule:
    - cron: "0 * * * *"
      branches: ["release/*"]
""" + JOBS
BAD_GROUP = """name: bad group
on:
  schedule: [{cron: "0 * * * *"}]
concurrency: "${{ fromJSON('not json') }}"
""" + JOBS
REQUIRED_INPUT = """name: needs input
on:
  schedule: [{cron: "0 * * * *"}]
  manual:
    inputs:
      target: {type: string, required: true}
""" + JOBS
PUSH_ONLY = "name: push only\non: push\n" + JOBS


@pytest.fixture
def team():
    return make_team()


def create(team, yaml, name="Nightly"):
    project, users = team
    return services.pipeline_create(project=project, user=users["developer"], name=name, yaml=yaml)


def crons(pipeline) -> set[tuple[str, str]]:
    return set(PipelineSchedule.objects.filter(pipeline=pipeline).values_list("cron", "branch"))


def make_due(pipeline, at: datetime) -> None:
    PipelineSchedule.objects.filter(pipeline=pipeline).update(next_run_at=at)


@pytest.mark.django_db
class TestSync:
    def test_saving_a_pipeline_stores_its_schedules(self, team):
        pipeline = create(team, NIGHTLY)
        assert crons(pipeline) == {("*/5 * * * *", "main"), ("0 3 * * *", "main")}
        assert not PipelineSchedule.objects.filter(pipeline=pipeline, last_run_at__isnull=False).exists()

    def test_next_run_is_computed_in_utc_from_now(self, team):
        pipeline = create(team, NIGHTLY)
        PipelineSchedule.objects.filter(pipeline=pipeline).delete()
        rows = {row.cron: row.next_run_at for row in schedules_sync(pipeline_id=pipeline.pk, now=NOON)}
        assert rows == {
            "*/5 * * * *": datetime(2030, 1, 7, 12, 5, tzinfo=UTC),
            "0 3 * * *": datetime(2030, 1, 8, 3, 0, tzinfo=UTC),
        }

    def test_a_pipeline_without_schedule_has_none(self, team):
        assert crons(create(team, PUSH_ONLY)) == set()

    def test_new_version_replaces_changed_schedules_and_keeps_unchanged_ones(self, team):
        project, users = team
        pipeline = create(team, NIGHTLY)
        kept = PipelineSchedule.objects.get(pipeline=pipeline, cron="*/5 * * * *")
        make_due(pipeline, NOON)
        PipelineSchedule.objects.filter(pk=kept.pk).update(last_error="old problem")
        new_yaml = NIGHTLY.replace('"0 3 * * *"', '"30 4 * * 1"')
        services.pipeline_version_create(pipeline=pipeline, user=users["developer"], yaml=new_yaml)
        assert crons(pipeline) == {("*/5 * * * *", "main"), ("30 4 * * 1", "main")}
        kept_now = PipelineSchedule.objects.get(pk=kept.pk)
        assert kept_now.next_run_at == NOON
        assert kept_now.last_error == ""

    def test_removing_the_schedule_from_the_yaml_removes_the_rows(self, team):
        project, users = team
        pipeline = create(team, NIGHTLY)
        services.pipeline_update(pipeline=pipeline, user=users["developer"], yaml=PUSH_ONLY)
        assert crons(pipeline) == set()

    def test_archive_removes_schedules_and_restore_brings_them_back(self, team):
        project, users = team
        pipeline = create(team, NIGHTLY)
        services.pipeline_archive(pipeline=pipeline, user=users["developer"])
        assert crons(pipeline) == set()
        services.pipeline_restore(pipeline=pipeline, user=users["developer"])
        assert crons(pipeline) == {("*/5 * * * *", "main"), ("0 3 * * *", "main")}

    def test_literal_branches_get_a_schedule_each(self, team):
        assert crons(create(team, ON_BRANCHES)) == {("0 * * * *", "develop")}


@pytest.mark.django_db
class TestRunDue:
    def test_due_schedules_start_one_build_each_and_advance(self, team):
        nightly = create(team, NIGHTLY)
        hourly = create(team, HOURLY, name="Hourly")
        make_due(nightly, NOON - timedelta(days=1))
        make_due(hourly, NOON - timedelta(days=1))
        ran = schedules_run_due(now=NOON)
        assert len(ran) == 3
        assert Build.objects.filter(pipeline=nightly).count() == 2
        assert Build.objects.filter(pipeline=hourly).count() == 1
        for schedule in PipelineSchedule.objects.select_related("last_build"):
            assert schedule.next_run_at == cron_next(schedule.cron, NOON) > NOON
            assert schedule.last_run_at == NOON
            assert schedule.last_error == ""
            assert schedule.last_build.trigger["event"] == "schedule"
            assert schedule.last_build.trigger["ref"] == "refs/heads/main"
            assert schedule.last_build.trigger["actor"] == "schedule"
            assert schedule.last_build.created_by is None

    def test_running_again_at_the_same_moment_starts_nothing_more(self, team):
        pipeline = create(team, HOURLY)
        make_due(pipeline, NOON)
        assert len(schedules_run_due(now=NOON)) == 1
        assert schedules_run_due(now=NOON) == []
        assert schedules_run_due(now=NOON + timedelta(minutes=30)) == []
        assert len(schedules_run_due(now=NOON + timedelta(hours=1))) == 1
        assert Build.objects.filter(pipeline=pipeline).count() == 2

    def test_due_schedules_are_claimed_in_batches_until_none_is_left(self, team):
        nightly = create(team, NIGHTLY)
        hourly = create(team, HOURLY, name="Hourly")
        make_due(nightly, NOON)
        make_due(hourly, NOON)
        assert len(schedules_run_due(now=NOON, limit=1)) == 3
        assert Build.objects.count() == 3

    def test_a_schedule_not_yet_due_starts_nothing(self, team):
        pipeline = create(team, HOURLY)
        make_due(pipeline, NOON + timedelta(seconds=1))
        assert schedules_run_due(now=NOON) == []
        assert not Build.objects.exists()

    def test_a_build_that_cannot_start_records_the_error_and_others_still_run(self, team):
        broken = create(team, BAD_GROUP, name="Broken")
        healthy = create(team, HOURLY, name="Healthy")
        make_due(broken, NOON)
        make_due(healthy, NOON)
        schedules_run_due(now=NOON)
        failed = PipelineSchedule.objects.get(pipeline=broken)
        assert "concurrency group" in failed.last_error
        assert failed.last_build is None
        assert failed.next_run_at == datetime(2030, 1, 7, 13, 0, tzinfo=UTC)
        assert not Build.objects.filter(pipeline=broken).exists()
        assert Build.objects.filter(pipeline=healthy).count() == 1

    def test_a_required_input_without_default_is_an_error(self, team):
        pipeline = create(team, REQUIRED_INPUT)
        make_due(pipeline, NOON)
        schedules_run_due(now=NOON)
        error = PipelineSchedule.objects.get(pipeline=pipeline).last_error
        assert "required inputs without a default: 'target'" in error
        assert not Build.objects.exists()

    def test_a_branch_the_schedule_does_not_allow_is_an_error(self, team):
        pipeline = create(team, ONLY_PATTERNS)
        make_due(pipeline, NOON)
        schedules_run_due(now=NOON)
        assert "branch 'main' is not in any schedule's branches" in pipeline.schedules.get().last_error

    def test_the_error_clears_after_a_successful_run(self, team):
        pipeline = create(team, HOURLY)
        make_due(pipeline, NOON)
        PipelineSchedule.objects.filter(pipeline=pipeline).update(last_error="earlier failure")
        schedules_run_due(now=NOON)
        assert pipeline.schedules.get().last_error == ""

    def test_the_beat_task_runs_due_schedules(self, team):
        pipeline = create(team, HOURLY)
        make_due(pipeline, timezone.now() - timedelta(minutes=1))
        assert settings.CELERY_BEAT_SCHEDULE["schedules-run-due"]["task"] == schedules_run_due_task.name
        assert schedules_run_due_task() == 1
        assert Build.objects.filter(pipeline=pipeline).count() == 1

    def test_the_pipeline_page_shows_next_runs_and_the_last_error(self, team, client):
        project, users = team
        pipeline = create(team, BAD_GROUP)
        make_due(pipeline, NOON)
        schedules_run_due(now=NOON)
        client.force_login(users["viewer"])
        page = client.get(f"/projects/{project.slug}/pipelines/{pipeline.slug}/").content.decode()
        assert "Triggers" in page
        assert "2030-01-07 13:00 UTC" in page
        assert "2030-01-07 15:00 UTC" in page
        assert "concurrency group" in page

    def test_the_pipeline_page_links_the_last_scheduled_build(self, team, client):
        project, users = team
        pipeline = create(team, HOURLY)
        make_due(pipeline, NOON)
        schedules_run_due(now=NOON)
        client.force_login(users["viewer"])
        page = client.get(f"/projects/{project.slug}/pipelines/{pipeline.slug}/").content.decode()
        assert f'href="/projects/{project.slug}/pipelines/{pipeline.slug}/builds/1/">build #1</a>' in page


def run_in_thread(target, results: list, *args) -> threading.Thread:
    def body():
        try:
            results.append(target(*args))
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
class TestNoDoubleStart:
    def test_two_callers_at_once_start_one_build_per_schedule(self, team):
        nightly = create(team, NIGHTLY)
        hourly = create(team, HOURLY, name="Hourly")
        make_due(nightly, NOON)
        make_due(hourly, NOON)
        if connection.vendor == "postgresql":
            barrier, results = threading.Barrier(2), []

            def caller():
                barrier.wait()
                return schedules_run_due(now=NOON)

            threads = [run_in_thread(caller, results) for _ in range(2)]
            for thread in threads:
                thread.join(timeout=30)
        else:
            results = [schedules_run_due(now=NOON), schedules_run_due(now=NOON)]
        assert sum(len(ran) for ran in results) == 3
        assert Build.objects.count() == 3
        assert Build.objects.filter(pipeline=nightly).count() == 2

    @pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="SKIP LOCKED needs PostgreSQL",
    )
    def test_rows_claimed_by_another_caller_are_skipped_not_waited_for(self, team):
        pipeline = create(team, HOURLY)
        make_due(pipeline, NOON)
        results: list = []
        with transaction.atomic():
            claimed = list(PipelineSchedule.objects.select_for_update().filter(pipeline=pipeline))
            thread = run_in_thread(lambda: schedules_run_due(now=NOON), results)
            thread.join(timeout=10)
            assert not thread.is_alive()
            assert results == [[]]
        assert len(claimed) == 1
        assert not Build.objects.exists()
        assert len(schedules_run_due(now=NOON)) == 1
