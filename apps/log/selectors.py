"""Read build logs the same way whether a job attempt's lines are in chunk rows or archived: in order
page by page, their count, a search returning line numbers, and the raw text for downloads.
Lines the line budget dropped are hidden here, and its marker line shown in their place."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.db.models import F

from apps.core.errors import ValidationFailed
from apps.log.chunks import chunk_decode
from apps.log.lines import Line, archive_decode, budget_marker
from apps.log.models import LogArchive, LogChunk, LogCursor

CHUNK_FIELDS = ("first_seq", "line_count", "text", "meta")
MAX_MATCHES = 1000
TEXT_CHUNK_LINES = 20_000
TEXT_CHUNK_ROWS = 20
SEARCH_CHUNK_ROWS = 20
SEARCH_TIMEOUT_MS = 15_000


def log_cursor(*, job, attempt: int) -> LogCursor | None:
    return LogCursor.objects.filter(job=job, attempt=attempt).first()


def log_total_lines(*, job, attempt: int) -> int:
    """The highest line number stored so far (0 when nothing is)."""
    cursor = log_cursor(job=job, attempt=attempt)
    return cursor.max_seq if cursor else 0


def archived_chunks(*, job, attempt: int, after_seq: int = 0):
    chunks = LogArchive.objects.filter(job=job, attempt=attempt, last_seq__gt=after_seq).order_by("first_seq")
    for data in chunks.values_list("data", flat=True).iterator(chunk_size=4):
        yield [line for line in archive_decode(data) if line.seq > after_seq]


def log_lines_page(*, job, attempt: int, after_seq: int = 0, limit: int = 1000) -> list[Line]:
    """At most `limit` lines after `after_seq`, in order."""
    cursor = log_cursor(job=job, attempt=attempt)
    if cursor is None:
        return []
    if cursor.archived:
        lines: list[Line] = []
        for chunk in archived_chunks(job=job, attempt=attempt, after_seq=after_seq):
            lines.extend(chunk[: limit - len(lines)])
            if len(lines) >= limit:
                break
        return lines
    return stored_lines(cursor=cursor, after_seq=after_seq, limit=limit)


def hidden(seq: int, cursor: LogCursor) -> bool:
    """Whether the budget dropped the line (its first seq shows the marker instead)."""
    return cursor.dropped_from <= seq <= cursor.dropped_through if cursor.dropped_from else False


def unhidden_lines(cursor: LogCursor, row: tuple) -> list[Line]:
    """The lines of a chunk row (first_seq, line_count, text, meta) that the budget kept."""
    lines = chunk_decode(*row)
    if cursor.dropped_from:
        return [line for line in lines if not hidden(line.seq, cursor)]
    return lines


def visible_lines(cursor: LogCursor, rows, first: int, last: int) -> list[Line]:
    """The lines of chunk rows from seq `first` to `last`, and the budget marker when it falls
    there, in order."""
    found = [line for row in rows for line in unhidden_lines(cursor, row) if first <= line.seq <= last]
    if cursor.dropped_from and first <= cursor.dropped_from <= last:
        found.append(budget_marker(cursor))
    found.sort(key=lambda line: line.seq)
    return found


def chunk_rows(*, cursor: LogCursor, after_seq: int, through: int) -> list[tuple]:
    """The chunks holding lines from after `after_seq` to `through`."""
    chunks = LogChunk.objects.filter(
        job_id=cursor.job_id, attempt=cursor.attempt, last_seq__gt=after_seq, first_seq__lte=through
    )
    return list(chunks.order_by("first_seq").values_list(*CHUNK_FIELDS))


def next_first_seq(cursor: LogCursor, after_seq: int) -> int | None:
    chunks = LogChunk.objects.filter(job_id=cursor.job_id, attempt=cursor.attempt, first_seq__gt=after_seq)
    return chunks.order_by("first_seq").values_list("first_seq", flat=True).first()


def stored_lines(*, cursor: LogCursor, after_seq: int, limit: int) -> list[Line]:
    """Up to `limit` lines after `after_seq`, read a window of seqs at a time: the chunks that
    overlap the window hold all its lines; an empty window skips to the next chunk."""
    lines: list[Line] = []
    after = after_seq
    while len(lines) < limit and after < cursor.max_seq:
        if hidden(after, cursor):  # the marker at dropped_from is behind: skip the dropped lines
            after = cursor.dropped_through
        through = after + limit - len(lines)
        rows = chunk_rows(cursor=cursor, after_seq=after, through=through)
        found = visible_lines(cursor, rows, after + 1, through)
        lines.extend(found)
        after = through
        if not found:
            candidates = (next_first_seq(cursor, after), cursor.dropped_from)
            following = [seq for seq in candidates if seq and seq > after]
            if not following:
                break
            after = min(following) - 1
    return lines


def consecutive_only(cursor: LogCursor) -> bool:
    """Whether every chunk holds consecutive seqs (then chunks never interleave)."""
    chunks = LogChunk.objects.filter(job_id=cursor.job_id, attempt=cursor.attempt)
    return not chunks.exclude(line_count=F("last_seq") - F("first_seq") + 1).exists()


def touches_hidden(cursor: LogCursor, first_seq: int, last_seq: int) -> bool:
    low, high = cursor.dropped_from, cursor.dropped_through
    return bool(low) and first_seq <= high and last_seq >= low


def chunk_texts(cursor: LogCursor) -> Iterator[str]:
    """The raw text of an attempt whose chunks hold consecutive seqs, chunk by chunk as stored,
    decoding only the chunks the budget cut into."""
    marker_due = bool(cursor.dropped_from)
    chunks = LogChunk.objects.filter(job_id=cursor.job_id, attempt=cursor.attempt).order_by("first_seq")
    rows = chunks.values_list(*CHUNK_FIELDS).iterator(chunk_size=TEXT_CHUNK_ROWS)
    for first_seq, count, text, meta in rows:
        last_seq = first_seq + count - 1
        if marker_due and first_seq > cursor.dropped_from:
            marker_due = False
            yield budget_marker(cursor).text + "\n"
        if not touches_hidden(cursor, first_seq, last_seq):
            yield text + "\n"
            continue
        lines = visible_lines(cursor, [(first_seq, count, text, meta)], first_seq, last_seq)
        marker_due = marker_due and not any(line.seq == cursor.dropped_from for line in lines)
        yield "".join(f"{line.text}\n" for line in lines)
    if marker_due:
        yield budget_marker(cursor).text + "\n"


def log_text_chunks(*, job, attempt: int) -> Iterator[str]:
    """The attempt's raw text, one line per log line, in pieces of many lines."""
    cursor = log_cursor(job=job, attempt=attempt)
    if cursor is None:
        return
    if cursor.archived:
        for chunk in archived_chunks(job=job, attempt=attempt):
            yield "".join(f"{line.text}\n" for line in chunk)
        return
    if consecutive_only(cursor):
        yield from chunk_texts(cursor)
        return
    after = 0
    while page := stored_lines(cursor=cursor, after_seq=after, limit=TEXT_CHUNK_LINES):
        yield "".join(f"{line.text}\n" for line in page)
        after = page[-1].seq


@dataclass
class SearchResult:
    matches: list[dict] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True)
class SearchTarget:
    """One job attempt to search, its lines after `after_seq`; `label` is the job key shown with
    build-wide matches."""

    job: object
    attempt: int
    label: str | None = None
    after_seq: int = 0


def search_pattern(query: str, regex: bool) -> re.Pattern:
    if not query:
        raise ValidationFailed("Give the text to search for in `q`.")
    try:
        return re.compile(query if regex else re.escape(query), re.IGNORECASE)
    except re.error as error:
        raise ValidationFailed(f"Bad regular expression: {error}.", details={"q": str(error)}) from error


def candidate_chunks(cursor: LogCursor, query: str, regex: bool, after_seq: int = 0):
    """The attempt's chunks after `after_seq` that may hold a match, in order: on PostgreSQL `~*`
    in newline-sensitive mode (plain text is escaped into a pattern), served by the pg_trgm index
    for the chunks in it and a scan of the few not in it yet; elsewhere LIKE for plain text, every
    chunk for a regex."""
    chunks = LogChunk.objects.filter(job_id=cursor.job_id, attempt=cursor.attempt, last_seq__gt=after_seq)
    if connection.vendor == "postgresql":
        matching = chunks.filter(text__iregex="(?n)" + (query if regex else re.escape(query)))
        fields = ("id", *CHUNK_FIELDS)
        indexed = matching.filter(indexed=True).values_list(*fields)
        return indexed.union(matching.filter(indexed=False).values_list(*fields)).order_by("first_seq")
    chunks = chunks.order_by("first_seq")
    return (chunks if regex else chunks.filter(text__icontains=query)).values_list("id", *CHUNK_FIELDS)


def chunk_matches(cursor: LogCursor, chunks, pattern: re.Pattern, limit: int,
                  after_seq: int = 0) -> list[tuple[int, str]]:
    """(seq, text) of up to `limit` lines after `after_seq` of the candidate chunks that match, in
    order; Python's `re` has the last word, as for archived logs."""
    found: list[tuple[int, str]] = []
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as db:
                    db.execute(f"SET LOCAL statement_timeout = {SEARCH_TIMEOUT_MS}")
            for _, *row in chunks.iterator(chunk_size=SEARCH_CHUNK_ROWS):
                lines = unhidden_lines(cursor, row)
                found.extend((line.seq, line.text) for line in lines
                             if line.seq > after_seq and pattern.search(line.text))
                if len(found) >= limit:
                    break
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValidationFailed(f"The search failed: {reason}.", details={"q": reason}) from error
    marker = budget_marker(cursor)
    if marker and marker.seq > after_seq and pattern.search(marker.text):
        found.append((marker.seq, marker.text))
    return sorted(found)[:limit]


def archive_matches(target: SearchTarget, pattern: re.Pattern, limit: int) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for chunk in archived_chunks(job=target.job, attempt=target.attempt, after_seq=target.after_seq):
        found.extend((line.seq, line.text) for line in chunk if pattern.search(line.text))
        if len(found) >= limit:
            break
    return found[:limit]


def log_search(*, targets: list[SearchTarget], query: str, regex: bool) -> SearchResult:
    """Lines of the targets matching `query` (case-insensitive substring, or regex), in order."""
    pattern = search_pattern(query, regex)
    result = SearchResult()
    for target in targets:
        room = MAX_MATCHES + 1 - len(result.matches)
        cursor = log_cursor(job=target.job, attempt=target.attempt)
        if cursor is None:
            continue
        if cursor.archived:
            found = archive_matches(target, pattern, room)
        else:
            chunks = candidate_chunks(cursor, query, regex, target.after_seq)
            found = chunk_matches(cursor, chunks, pattern, room, target.after_seq)
        label = {} if target.label is None else {"job": target.label}
        result.matches.extend({**label, "seq": seq, "text": text} for seq, text in found)
        if len(result.matches) > MAX_MATCHES:
            break
    result.truncated = len(result.matches) > MAX_MATCHES
    result.matches = result.matches[:MAX_MATCHES]
    return result
