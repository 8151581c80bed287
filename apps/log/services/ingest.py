"""Ingest build log lines: one chunk row per batch, idempotent by (job, attempt, seq), gap-aware,
within the line budget, published to the job's log group on commit.

Lines of one job attempt are written under a lock on its LogCursor row, so the lines that could
conflict are known before the insert: only a batch reaching below the highest stored seq (a
resend) looks at what is stored. See docs/logs.md for the line budget.
"""

from datetime import UTC, datetime

from django.conf import settings
from django.db import transaction

from apps.log.chunks import Chunk, chunk_decode, chunk_encode, chunk_from_columns, chunk_seq_list
from apps.log.lines import Line, budget_marker, parse_lines
from apps.log.live import log_appended_on_commit
from apps.log.models import LogChunk, LogCursor

MIN_BUDGET = 3
CURSOR_FIELDS = [
    "stored_through", "max_seq", "dropped_from", "dropped_through", "dropped_budget", "dropped_at",
]


def line_budget() -> int:
    return max(int(settings.DEVOPS_LOG_LINE_BUDGET), MIN_BUDGET)


def chunk_insert(*, job_id: int, attempt: int, chunk: Chunk) -> None:
    """Store a chunk of lines known not to exist yet."""
    LogChunk.objects.create(
        job_id=job_id,
        attempt=attempt,
        first_seq=chunk.first_seq,
        last_seq=chunk.last_seq,
        line_count=chunk.line_count,
        text=chunk.text,
        meta=chunk.meta,
    )


def cursor_lock(*, job, attempt: int) -> LogCursor:
    cursor, _ = LogCursor.objects.select_for_update().get_or_create(job=job, attempt=attempt)
    return cursor


def dropped_range(cursor: LogCursor, top: int) -> tuple[int, int]:
    """The seqs the budget drops once the highest seq is `top`: the first half of the budget is
    kept, then a marker line at `dropped_from`, then the last lines up to the budget."""
    budget = cursor.dropped_budget or line_budget()
    if top <= budget and not cursor.dropped_from:
        return 0, 0
    dropped_from = cursor.dropped_from or budget // 2 + 1
    tail = max(budget - dropped_from, 1)
    return dropped_from, max(top - tail, cursor.dropped_through, dropped_from)


def in_range(seq: int, low: int, high: int) -> bool:
    return low <= seq <= high if low else False


def advance(stored_through: int, seqs: list[int], low: int, high: int) -> int:
    """The highest seq stored without a gap, given stored seqs in ascending order (dropped ones count)."""
    if not low and seqs and seqs[0] == stored_through + 1 and seqs[-1] - seqs[0] + 1 == len(seqs):
        return seqs[-1]  # the next lines in order, none dropped
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


def stored_seqs(*, job, attempt: int, first: int, last: int) -> list[int]:
    """The stored seqs from `first` to `last`, ascending."""
    chunks = LogChunk.objects.filter(job=job, attempt=attempt, last_seq__gte=first, first_seq__lte=last)
    found = {
        seq
        for first_seq, count, meta in chunks.values_list("first_seq", "line_count", "meta")
        for seq in chunk_seq_list(first_seq, count, meta)
        if first <= seq <= last
    }
    return sorted(found)


def budget_apply(*, job, attempt: int, cursor: LogCursor, low: int, high: int) -> list[Line]:
    """Record the range newly out of budget, delete the chunks wholly inside it, and return the
    marker line when it is new or changed. Reads hide what is left of the range in other chunks."""
    if not low or (cursor.dropped_from == low and cursor.dropped_through == high):
        return []
    LogChunk.objects.filter(job=job, attempt=attempt, first_seq__gte=low, last_seq__lte=high).delete()
    cursor.dropped_budget = cursor.dropped_budget or line_budget()
    cursor.dropped_from, cursor.dropped_through, cursor.dropped_at = low, high, datetime.now(UTC)
    return [budget_marker(cursor)]


def log_lines_append(*, job, attempt: int, lines: list[dict], mask: list[str] = ()) -> int:
    """Store a batch of line objects and return the highest sequence number stored without a gap."""
    batch = parse_lines(lines, list(mask))
    return log_chunk_store(job=job, attempt=attempt, chunk=chunk_encode(batch) if batch else None)


def log_columns_append(*, job, attempt: int, columns: dict) -> int:
    """Store a batch in the agent's column form (docs/agent-protocol.md); a malformed one raises
    ValueError saying why."""
    return log_chunk_store(job=job, attempt=attempt, chunk=chunk_from_columns(columns))


def next_in_order(cursor: LogCursor, chunk: Chunk, low: int) -> bool:
    """Whether the chunk holds just the lines that come next, none of them dropped: then it is
    stored as it came (the common case), with no line looked at."""
    return (
        not low and chunk.consecutive and chunk.first_seq == cursor.max_seq + 1
        and cursor.stored_through == cursor.max_seq
    )


def log_chunk_store(*, job, attempt: int, chunk: Chunk | None) -> int:
    """Store a parsed batch and return the highest seq stored without a gap."""
    with transaction.atomic():
        cursor = cursor_lock(job=job, attempt=attempt)
        if cursor.archived or chunk is None:
            return cursor.stored_through
        top = max(cursor.max_seq, chunk.last_seq)
        low, high = dropped_range(cursor, top)
        if next_in_order(cursor, chunk, low):
            fresh, cursor.stored_through = chunk, chunk.last_seq
        else:
            fresh = fresh_chunk(job=job, attempt=attempt, cursor=cursor, chunk=chunk, low=low, high=high)
        marker = budget_apply(job=job, attempt=attempt, cursor=cursor, low=low, high=high)
        if fresh is not None:
            chunk_insert(job_id=job.id, attempt=attempt, chunk=fresh)
        cursor.max_seq = top
        cursor.save(update_fields=CURSOR_FIELDS)
        published = with_marker(fresh, marker) if marker else fresh
        log_appended_on_commit(job_id=job.id, job_key=job.key, attempt=attempt, chunk=published)
    return cursor.stored_through


def with_marker(chunk: Chunk | None, marker: list[Line]) -> Chunk:
    lines = chunk_decode(chunk.first_seq, chunk.line_count, chunk.text, chunk.meta) if chunk else []
    return chunk_encode(sorted(lines + marker, key=lambda line: line.seq))


def fresh_chunk(*, job, attempt: int, cursor: LogCursor, chunk: Chunk, low: int, high: int) -> Chunk | None:
    """The lines of a resent, gapped or over-budget batch that are neither stored nor dropped,
    and the cursor's `stored_through` moved on past them."""
    batch = chunk_decode(chunk.first_seq, chunk.line_count, chunk.text, chunk.meta)
    known = set()
    if chunk.first_seq <= cursor.max_seq:  # a resend: some of it may be stored
        known = set(stored_seqs(job=job, attempt=attempt, first=chunk.first_seq, last=cursor.max_seq))
    fresh = [line for line in batch if line.seq not in known and not in_range(line.seq, low, high)]
    if cursor.stored_through == cursor.max_seq:
        seqs = [line.seq for line in batch]
    else:
        stored = stored_seqs(job=job, attempt=attempt, first=cursor.stored_through + 1, last=cursor.max_seq)
        seqs = sorted({*stored, *(line.seq for line in fresh)})
    cursor.stored_through = advance(cursor.stored_through, seqs, low, high)
    return chunk_encode(fresh) if fresh else None
