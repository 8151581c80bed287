"""One log line, pure: cleaning on ingest, its level, its JSON shape, the budget marker, and the
compressed archive format. No database here."""

import gzip
import json
from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple

MAX_LINE_CHARS = 16 * 1024
CUT_MARKER = " [line cut: longer than 16 KB]"
ERROR_MARKERS = ("::error", "##[error]")
WARNING_MARKERS = ("::warning", "##[warning]")
STREAM_CHARS = 10
LEVEL_MARKER_STARTS = frozenset(":# \t")
NEWLINE_SYMBOL = "\u2424"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Line(NamedTuple):
    """A stored line, whether it comes from a chunk or from an archive; `ts` is its time as
    ISO 8601 text in UTC ending in "Z", as the API shows it."""

    seq: int
    step: int | None
    ts: str
    stream: str
    level: str
    text: str


def line_level(text: str) -> str:
    """"error", "warning" or "" from the workflow-command markers the line starts with."""
    head = text[:12].lstrip()
    if head.startswith(ERROR_MARKERS):
        return "error"
    if head.startswith(WARNING_MARKERS):
        return "warning"
    return ""


@lru_cache(maxsize=65536)
def stored_ts(value: str) -> str | None:
    """An ISO 8601 text (naive means UTC) as `iso` writes it, or None when it is not a time;
    cached, since the lines of a batch mostly share their millisecond. The agent's own form
    (milliseconds and "Z") is only checked."""
    if len(value) == 24 and value[19] == "." and value[23] == "Z" and value[20:23].isdigit():
        try:
            datetime.fromisoformat(value[:19])
        except ValueError:
            return None
        return value[:19] + "Z" if value[20:23] == "000" else value[:23] + "000Z"
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return iso(parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def clean_text(text: str, mask: list[str]) -> str:
    """Mask secret values, replace NUL characters (PostgreSQL text cannot hold them) and newlines
    (they part the lines of a stored chunk), cut at 16 KB."""
    for value in mask:
        if value in text:
            text = text.replace(value, "***")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if "\n" in text:
        text = text.replace("\n", NEWLINE_SYMBOL)
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + CUT_MARKER
    return text


def line_seq(value) -> int:
    """The line's number, or 0 when it has none."""
    if type(value) is int:
        return value
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def parse_lines(lines: list[dict], mask: list[str]) -> list[Line]:
    """The batch as Lines sorted by seq, one per seq (the first wins), lines without a seq dropped.
    A missing or unreadable time is the time of ingest."""
    now = iso(datetime.now(UTC))
    mask = [value for value in mask if value]
    parsed: dict[int, Line] = {}
    for line in lines:
        if type(line) is not dict:
            continue
        seq = line.get("seq")
        if type(seq) is not int:
            seq = line_seq(seq)
        if seq <= 0 or seq in parsed:
            continue
        text = line.get("text", "")
        if type(text) is not str:
            text = str(text)
        if mask or len(text) > MAX_LINE_CHARS or "\x00" in text or "\n" in text:
            text = clean_text(text, mask)
        step, stream, ts = line.get("step"), line.get("stream") or "stdout", line.get("ts")
        parsed[seq] = Line(
            seq,
            step if type(step) is int else None,
            (stored_ts(ts) if type(ts) is str else None) or now,
            stream if stream == "stdout" else str(stream)[:STREAM_CHARS],
            line_level(text) if text[:1] in LEVEL_MARKER_STARTS else "",
            text,
        )
    return [parsed[seq] for seq in sorted(parsed)]


def budget_marker_text(*, dropped: int, budget: int) -> str:
    return (
        f"##[warning]{dropped} lines dropped: this job printed more than its budget of {budget} lines; "
        "the first and the last lines are kept."
    )


def budget_marker(cursor) -> Line | None:
    """The line shown at the first seq of the range a LogCursor says the budget dropped."""
    if not cursor.dropped_from:
        return None
    text = budget_marker_text(dropped=cursor.dropped, budget=cursor.dropped_budget)
    return Line(cursor.dropped_from, None, iso(cursor.dropped_at or EPOCH), "system", "warning", text)


@lru_cache(maxsize=8192)
def iso(moment: datetime) -> str:
    """ISO 8601 with "Z" for UTC, as DRF writes it; cached, since a batch's lines share timestamps."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def line_payload(line: Line) -> dict:
    """A line as the REST API and the websocket show it."""
    seq, step, ts, stream, level, text = line
    return {"seq": seq, "step": step, "ts": ts, "stream": stream, "level": level, "text": text}


def archive_encode(lines: list[Line]) -> bytes:
    """Lines as gzip-compressed JSON lines: [seq, step, ts, stream, level, text]."""
    rows = (json.dumps(line) for line in lines)
    return gzip.compress("\n".join(rows).encode(), compresslevel=6)


def archive_decode(data: bytes) -> list[Line]:
    text = gzip.decompress(bytes(data)).decode()
    return [Line(*json.loads(row)) for row in text.split("\n")] if text else []
