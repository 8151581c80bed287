"""Ingest build log lines: bulk (PostgreSQL COPY, executemany elsewhere), idempotent by
(job, attempt, seq), gap-aware, within the line budget, published to the build's group on commit.

Lines of one job attempt are written under a lock on its LogCursor row, so the lines that could
conflict are known before the insert: the batch is filtered against them and then copied in
plainly. See docs/logs.md for the line budget.
"""

from datetime import UTC, datetime
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction

from apps.log.lines import Line, budget_marker_text, parse_lines
from apps.log.live import log_appended_on_commit
from apps.log.models import LogCursor, LogLine

COLUMNS = ("job_id", "attempt", "seq", "step", "timestamp", "stream", "level", "text")
MIN_BUDGET = 3


def line_budget() -> int:
    return max(int(settings.DEVOPS_LOG_LINE_BUDGET), MIN_BUDGET)


@lru_cache(maxsize=8192)
def naive_utc_text(moment: datetime) -> str:
    """What Django's SQLite backend stores for an aware datetime, without its per-value overhead."""
    return str((moment if moment.tzinfo is UTC else moment.astimezone(UTC)).replace(tzinfo=None))


def line_values(line: Line, timestamp) -> tuple:
    return line.seq, line.step, timestamp, line.stream, line.level, line.text


def lines_insert(*, job_id: int, attempt: int, lines: list[Line]) -> None:
    """Insert lines known not to exist yet: COPY on PostgreSQL, executemany elsewhere."""
    if not lines:
        return
    table = connection.ops.quote_name(LogLine._meta.db_table)
    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for line in lines:
                    copy.write_row((job_id, attempt, *line_values(line, line.timestamp)))
            return
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
            [(job_id, attempt, *line_values(line, naive_utc_text(line.timestamp))) for line in lines],
        )


def cursor_lock(*, job, attempt: int) -> LogCursor:
    cursor, _ = LogCursor.objects.select_for_update().get_or_create(job=job, attempt=attempt)
    return cursor


def dropped_range(cursor: LogCursor, top: int) -> tuple[int, int]:
    """The seqs the budget drops once the highest seq is `top`: the first half of the budget is
    kept, then a marker line at `dropped_from`, then the last lines up to the budget."""
    budget = line_budget()
    if top <= budget and not cursor.dropped_from:
        return 0, 0
    dropped_from = cursor.dropped_from or budget // 2 + 1
    tail = max(budget - dropped_from, 1)
    return dropped_from, max(top - tail, cursor.dropped_through, dropped_from)


def in_range(seq: int, low: int, high: int) -> bool:
    return low <= seq <= high if low else False


def advance(stored_through: int, seqs, low: int, high: int) -> int:
    """The highest seq stored without a gap, given stored seqs in ascending order (dropped ones count)."""
    done = stored_through
    for seq in seqs:
        if in_range(done + 1, low, high):
            done = high
        if seq <= done:
            continue
        if seq != done + 1:
            break
        done = seq
    return high if in_range(done + 1, low, high) else done


def existing_seqs(*, job, attempt: int, lines: list[Line], below: int) -> set[int]:
    if not lines or lines[0].seq > below:
        return set()
    stored = LogLine.objects.filter(
        job=job, attempt=attempt, seq__gte=lines[0].seq, seq__lte=min(lines[-1].seq, below)
    )
    return set(stored.values_list("seq", flat=True))


def budget_apply(*, job, attempt: int, cursor: LogCursor, low: int, high: int) -> list[Line]:
    """Delete the lines newly out of budget; return the marker line when it is new or changed."""
    if not low or (cursor.dropped_from == low and cursor.dropped_through == high):
        return []
    start = low if not cursor.dropped_from else cursor.dropped_through + 1
    LogLine.objects.filter(job=job, attempt=attempt, seq__gte=start, seq__lte=high).delete()
    text = budget_marker_text(dropped=high - low + 1, budget=line_budget())
    marker = Line(low, None, datetime.now(UTC), "system", "warning", text)
    if cursor.dropped_from:
        LogLine.objects.filter(job=job, attempt=attempt, seq=low).update(text=text)
    else:
        lines_insert(job_id=job.id, attempt=attempt, lines=[marker])
    return [marker]


def log_lines_append(*, job, attempt: int, lines: list[dict], mask: list[str] = ()) -> int:
    """Store a batch and return the highest sequence number stored without a gap."""
    batch = parse_lines(lines, list(mask))
    with transaction.atomic():
        cursor = cursor_lock(job=job, attempt=attempt)
        if cursor.archived or not batch:
            return cursor.stored_through
        top = max(cursor.max_seq, batch[-1].seq)
        low, high = dropped_range(cursor, top)
        known = existing_seqs(job=job, attempt=attempt, lines=batch, below=cursor.max_seq)
        fresh = [line for line in batch if line.seq not in known and not in_range(line.seq, low, high)]
        marker = budget_apply(job=job, attempt=attempt, cursor=cursor, low=low, high=high)
        lines_insert(job_id=job.id, attempt=attempt, lines=fresh)
        if cursor.stored_through == cursor.max_seq:
            seqs = (line.seq for line in batch)
        else:
            stored = LogLine.objects.filter(job=job, attempt=attempt, seq__gt=cursor.stored_through)
            seqs = stored.order_by("seq").values_list("seq", flat=True).iterator()
        cursor.stored_through = advance(cursor.stored_through, seqs, low, high)
        cursor.max_seq, cursor.dropped_from, cursor.dropped_through = top, low, high
        cursor.save(update_fields=["stored_through", "max_seq", "dropped_from", "dropped_through"])
        published = sorted(fresh + marker, key=lambda line: line.seq)
        log_appended_on_commit(build_id=job.build_id, job_key=job.key, attempt=attempt, lines=published)
    return cursor.stored_through
