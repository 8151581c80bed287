"""Read build logs the same way whether a job attempt's lines are rows or archived chunks: in order
page by page, their count, a search returning line numbers, and the raw text for downloads."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import DatabaseError, connection, transaction

from apps.core.errors import ValidationFailed
from apps.log.lines import Line, archive_decode, timestamp_from_text
from apps.log.models import LogArchive, LogCursor, LogLine

LINE_FIELDS = ("seq", "step", "timestamp", "stream", "level", "text")
MAX_MATCHES = 1000
TEXT_CHUNK_LINES = 20_000
SEARCH_TIMEOUT_MS = 15_000


def log_cursor(*, job, attempt: int) -> LogCursor | None:
    return LogCursor.objects.filter(job=job, attempt=attempt).first()


def log_is_archived(*, job, attempt: int) -> bool:
    return LogCursor.objects.filter(job=job, attempt=attempt, archived=True).exists()


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
    if log_is_archived(job=job, attempt=attempt):
        lines: list[Line] = []
        for chunk in archived_chunks(job=job, attempt=attempt, after_seq=after_seq):
            lines.extend(chunk[: limit - len(lines)])
            if len(lines) >= limit:
                break
        return lines
    return stored_lines(job_id=job.id, attempt=attempt, after_seq=after_seq, limit=limit)


def stored_lines(*, job_id: int, attempt: int, after_seq: int, limit: int) -> list[Line]:
    """The rows in plain SQL: a page holds up to 5,000 lines, and the ORM's per-value converters
    would cost more than the query (SQLite hands timestamps back as text)."""
    table = connection.ops.quote_name(LogLine._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(LINE_FIELDS)} FROM {table} WHERE job_id = %s AND attempt = %s AND seq > %s "
            "ORDER BY seq LIMIT %s",
            [job_id, attempt, after_seq, limit],
        )
        rows = cursor.fetchall()
    return [Line(seq, step, aware(ts), stream, level, text) for seq, step, ts, stream, level, text in rows]


def aware(moment) -> datetime:
    """SQLite's raw cursor gives naive UTC datetimes (or text); PostgreSQL aware ones."""
    if isinstance(moment, str):
        return timestamp_from_text(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def log_text_chunks(*, job, attempt: int) -> Iterator[str]:
    """The attempt's raw text, one line per log line, in pieces of many lines."""
    if log_is_archived(job=job, attempt=attempt):
        for chunk in archived_chunks(job=job, attempt=attempt):
            yield "".join(f"{line.text}\n" for line in chunk)
        return
    after = 0
    rows = LogLine.objects.filter(job=job, attempt=attempt).order_by("seq").values_list("seq", "text")
    while page := list(rows.filter(seq__gt=after)[:TEXT_CHUNK_LINES]):
        yield "".join(f"{text}\n" for _, text in page)
        after = page[-1][0]


@dataclass
class SearchResult:
    matches: list[dict] = field(default_factory=list)
    truncated: bool = False


@dataclass(frozen=True)
class SearchTarget:
    """One job attempt to search; `label` is the job key shown with build-wide matches."""

    job: object
    attempt: int
    label: str | None = None


def search_pattern(query: str, regex: bool) -> re.Pattern:
    if not query:
        raise ValidationFailed("Give the text to search for in `q`.")
    try:
        return re.compile(query if regex else re.escape(query), re.IGNORECASE)
    except re.error as error:
        raise ValidationFailed(f"Bad regular expression: {error}.", details={"q": str(error)}) from error


def database_matches(target: SearchTarget, query: str, regex: bool, limit: int) -> list[tuple[int, str]]:
    rows = LogLine.objects.filter(job=target.job, attempt=target.attempt).order_by("seq")
    if connection.vendor == "postgresql":
        # `~*` on PostgreSQL is served by the pg_trgm index, also for plain substrings.
        rows = rows.filter(text__iregex=query if regex else re.escape(query))
    else:
        rows = rows.filter(text__iregex=query) if regex else rows.filter(text__icontains=query)
    try:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL statement_timeout = {SEARCH_TIMEOUT_MS}")
            return list(rows.values_list("seq", "text")[:limit])
    except DatabaseError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise ValidationFailed(f"The search failed: {reason}.", details={"q": reason}) from error


def archive_matches(target: SearchTarget, pattern: re.Pattern, limit: int) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for chunk in archived_chunks(job=target.job, attempt=target.attempt):
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
        if log_is_archived(job=target.job, attempt=target.attempt):
            found = archive_matches(target, pattern, room)
        else:
            found = database_matches(target, query, regex, room)
        label = {} if target.label is None else {"job": target.label}
        result.matches.extend({**label, "seq": seq, "text": text} for seq, text in found)
        if len(result.matches) > MAX_MATCHES:
            break
    result.truncated = len(result.matches) > MAX_MATCHES
    result.matches = result.matches[:MAX_MATCHES]
    return result
