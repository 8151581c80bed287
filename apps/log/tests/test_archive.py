"""Archive and retention: archived logs read the same everywhere; old logs are deleted."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.log.models import LogArchive, LogChunk, LogCursor
from apps.log.selectors import SearchTarget, log_lines_page, log_search, log_text_chunks, log_total_lines
from apps.log.services import archive as archive_module
from apps.log.services import log_lines_append, logs_archive_older, logs_purge_older
from apps.log.tasks import logs_maintain
from apps.log.testing import stored_log_lines
from apps.process.choices import Status
from apps.process.models import Build
from apps.process.tests.builds_samples import PIPELINE_API


def finish(build, days_ago: float) -> None:
    moment = timezone.now() - timedelta(days=days_ago)
    Build.objects.filter(id=build.id).update(status=Status.SUCCEEDED, finished_at=moment)
    build.jobs.update(status=Status.SUCCEEDED, finished_at=moment)


def write(job, count: int) -> None:
    texts = ["##[error]bad" if seq % 10 == 0 else f"line {seq}" for seq in range(1, count + 1)]
    batch = [{"seq": i + 1, "text": text, "step": 1} for i, text in enumerate(texts)]
    log_lines_append(job=job, attempt=1, lines=batch)


def reads(job) -> dict:
    return {
        "page": [(line.seq, line.step, line.level, line.text, line.ts) for line in log_lines_page(
            job=job, attempt=1, after_seq=3, limit=30)],
        "total": log_total_lines(job=job, attempt=1),
        "text": "".join(log_text_chunks(job=job, attempt=1)),
        "search": log_search(targets=[SearchTarget(job, 1)], query="BAD", regex=False).matches,
        "regex": log_search(targets=[SearchTarget(job, 1)], query=r"line 1\d$", regex=True).matches,
    }


@pytest.fixture
def old_build(start):
    build = start()
    write(build.jobs.get(key="compile"), 45)
    finish(build, days_ago=10)
    return build


def test_archived_logs_read_the_same(old_build, monkeypatch):
    monkeypatch.setattr(archive_module, "ARCHIVE_CHUNK_LINES", 7)
    job = old_build.jobs.get(key="compile")
    before = reads(job)
    assert logs_archive_older(days=7) == 1
    assert not LogChunk.objects.filter(job=job).exists()
    assert LogArchive.objects.filter(job=job).count() == 7
    assert LogCursor.objects.get(job=job).archived
    assert reads(job) == before
    assert [line.seq for line in log_lines_page(job=job, attempt=1, after_seq=40)] == [41, 42, 43, 44, 45]
    assert logs_archive_older(days=7) == 0, "archiving twice changes nothing"


def test_late_lines_after_archive_are_ignored(old_build):
    job = old_build.jobs.get(key="compile")
    logs_archive_older(days=7)
    assert log_lines_append(job=job, attempt=1, lines=[{"seq": 46, "text": "late"}]) == 45
    assert not LogChunk.objects.filter(job=job).exists()


def test_recent_and_running_builds_are_not_archived(start):
    recent, running = start(), start()
    write(recent.jobs.get(key="compile"), 3)
    write(running.jobs.get(key="compile"), 3)
    finish(recent, days_ago=1)
    assert logs_archive_older(days=7) == 0
    assert len(stored_log_lines()) == 6


def test_archived_logs_download_and_page_over_the_api(api_as, old_build):
    logs_archive_older(days=7)
    client = api_as("viewer")
    base = f"{PIPELINE_API}/builds/{old_build.number}/jobs/compile/logs/"
    page = client.get(base, {"after": 0, "limit": 5}).json()
    assert [line["seq"] for line in page["lines"]] == [1, 2, 3, 4, 5] and page["total_lines"] == 45
    text = b"".join(client.get(f"{base}download/").streaming_content).decode()
    assert text.splitlines()[:2] == ["line 1", "line 2"] and len(text.splitlines()) == 45
    found = client.get(f"{base}search/", {"q": "bad"}).json()["matches"]
    assert [match["seq"] for match in found] == [10, 20, 30, 40]


def test_retention_deletes_old_logs_rows_and_archives(start):
    old, archived, kept = start(), start(), start()
    for build in (old, archived, kept):
        write(build.jobs.get(key="compile"), 5)
    finish(old, days_ago=40)
    finish(archived, days_ago=40)
    finish(kept, days_ago=5)
    logs_archive_older(days=30)
    assert logs_purge_older(days=30) == 2
    assert not LogChunk.objects.filter(job__build__in=[old, archived]).exists()
    assert not LogArchive.objects.exists() and LogCursor.objects.count() == 1
    assert len(stored_log_lines(job__build=kept)) == 5


def test_the_command_and_the_periodic_task(old_build, settings, capsys):
    call_command("logs", "archive", "--older-than-days", "30")
    assert "0 job attempts" in capsys.readouterr().out
    call_command("logs", "archive")
    assert "1 job attempts" in capsys.readouterr().out
    call_command("logs", "purge")
    assert "DEVOPS_LOG_RETENTION_DAYS is 0" in capsys.readouterr().out
    settings.DEVOPS_LOG_RETENTION_DAYS = 9
    assert logs_maintain() == {"archived": 0, "purged": 1}
    assert not LogArchive.objects.exists()


def test_the_periodic_task_is_scheduled_on_the_log_queue(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["logs-maintain"]
    assert entry["task"] == logs_maintain.name
    assert float(entry["schedule"]) > 0
    assert settings.CELERY_TASK_ROUTES["apps.log.tasks.*"] == {"queue": "log"}
