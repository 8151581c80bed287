"""Archive and retention of build logs.

A finished build's job attempts can be archived: their LogChunk rows become LogArchive chunks of
gzip-compressed JSON lines (ARCHIVE_CHUNK_LINES lines each, the budget's marker in place of the
lines it dropped) and every read path serves them the same way. Retention deletes the logs of
builds finished long ago. Both run from the periodic task `apps.log.tasks.logs_maintain` and from
`manage.py logs archive|purge`.
"""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from apps.log.lines import archive_encode
from apps.log.models import LogArchive, LogChunk, LogCursor
from apps.log.selectors import stored_lines
from apps.process.choices import TERMINAL_STATUSES

ARCHIVE_CHUNK_LINES = 10_000


def finished_before(days: int, now=None):
    cutoff = (now or timezone.now()) - timedelta(days=days)
    return LogCursor.objects.filter(
        job__build__status__in=TERMINAL_STATUSES, job__build__finished_at__lt=cutoff
    )


def log_attempt_archive(*, cursor_id: int) -> int:
    """Archive one job attempt's lines; returns how many lines moved (0 if already archived)."""
    moved = 0
    with transaction.atomic():
        cursor = LogCursor.objects.select_for_update().filter(id=cursor_id, archived=False).first()
        if cursor is None:
            return 0
        after = 0
        while chunk := stored_lines(cursor=cursor, after_seq=after, limit=ARCHIVE_CHUNK_LINES):
            LogArchive.objects.create(
                job_id=cursor.job_id,
                attempt=cursor.attempt,
                first_seq=chunk[0].seq,
                last_seq=chunk[-1].seq,
                line_count=len(chunk),
                data=archive_encode(chunk),
            )
            moved += len(chunk)
            after = chunk[-1].seq
        LogChunk.objects.filter(job_id=cursor.job_id, attempt=cursor.attempt).delete()
        cursor.archived = True
        cursor.save(update_fields=["archived"])
    return moved


def logs_archive_older(*, days: int, now=None) -> int:
    """Archive every job attempt of builds finished more than `days` days ago; returns the count."""
    ids = list(finished_before(days, now).filter(archived=False).values_list("id", flat=True))
    for cursor_id in ids:
        log_attempt_archive(cursor_id=cursor_id)
    return len(ids)


def logs_purge_older(*, days: int, now=None) -> int:
    """Delete the logs (rows, archives, cursors) of builds finished more than `days` days ago."""
    cursors = list(finished_before(days, now).values_list("id", "job_id", "attempt"))
    for cursor_id, job_id, attempt in cursors:
        with transaction.atomic():
            LogChunk.objects.filter(job_id=job_id, attempt=attempt).delete()
            LogArchive.objects.filter(job_id=job_id, attempt=attempt).delete()
            LogCursor.objects.filter(id=cursor_id).delete()
    return len(cursors)
