"""Compaction: a job printing slowly stores one small chunk per batch (a batch leaves once its
oldest line has waited 50 ms), so an hour of a line now and then would be tens of thousands of
rows. The periodic task `apps.log.tasks.logs_index` first merges each run of consecutive small
chunks not in the search index yet into one chunk, then indexes what is left.

A merge holds the attempt's cursor lock, as ingest does, and only touches lines stored without a
gap (up to `stored_through`), so a batch arriving meanwhile waits for it and finds its lines. An
attempt whose budget dropped lines, or that is archived, is left as it is.
"""

from django.db import transaction
from django.db.models import Count

from apps.log.chunks import chunk_decode, chunk_encode
from apps.log.models import LogChunk, LogCursor
from apps.log.selectors import CHUNK_FIELDS
from apps.log.services.ingest import chunk_insert

SMALL_CHUNK_LINES = 1000
MERGED_MAX_LINES = 5000


def log_chunks_compact() -> int:
    """Merge the runs of small chunks not yet in the search index; returns how many rows went."""
    small = LogChunk.objects.filter(indexed=False, line_count__lt=SMALL_CHUNK_LINES)
    attempts = small.values("job_id", "attempt").annotate(chunks=Count("id")).filter(chunks__gte=2)
    return sum(attempt_compact(job_id=row["job_id"], attempt=row["attempt"]) for row in attempts)


def attempt_compact(*, job_id: int, attempt: int) -> int:
    with transaction.atomic():
        cursor = LogCursor.objects.select_for_update().filter(job_id=job_id, attempt=attempt).first()
        if cursor is None or cursor.archived or cursor.dropped_from:
            return 0
        chunks = LogChunk.objects.filter(
            job_id=job_id, attempt=attempt, indexed=False, last_seq__lte=cursor.stored_through
        ).order_by("first_seq")
        removed = 0
        for run in small_runs(list(chunks.values_list("id", "last_seq", *CHUNK_FIELDS))):
            LogChunk.objects.filter(id__in=[row[0] for row in run]).delete()
            lines = [line for row in run for line in chunk_decode(*row[2:])]
            chunk_insert(job_id=job_id, attempt=attempt, chunk=chunk_encode(lines))
            removed += len(run) - 1
        return removed


def small_runs(rows: list[tuple]) -> list[list[tuple]]:
    """Runs of at least two consecutive small chunks of at most MERGED_MAX_LINES lines in all;
    rows are (id, last_seq, first_seq, line_count, text, meta) in first_seq order."""
    runs: list[list[tuple]] = [[]]
    for row in rows:
        _, _, first_seq, line_count, _, _ = row
        run = runs[-1]
        follows = run and first_seq == run[-1][1] + 1
        fits = sum(chunk[3] for chunk in run) + line_count <= MERGED_MAX_LINES
        if line_count >= SMALL_CHUNK_LINES:
            runs.append([])
        elif follows and fits:
            run.append(row)
        else:
            runs.append([row])
    return [run for run in runs if len(run) >= 2]
