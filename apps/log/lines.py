"""One log line, pure: cleaning on ingest, its level, its JSON shape, the budget marker, and the
compressed archive format. No database here."""

import gzip
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

MAX_LINE_CHARS = 16 * 1024
CUT_MARKER = " [line cut: longer than 16 KB]"
ERROR_MARKERS = ("::error", "##[error]")
WARNING_MARKERS = ("::warning", "##[warning]")
STREAM_CHARS = 10


@dataclass(slots=True)
class Line:
    """A stored line, whether it comes from a LogLine row or from an archive."""

    seq: int
    step: int | None
    timestamp: datetime
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


@lru_cache(maxsize=8192)
def timestamp_from_text(value: str) -> datetime:
    """An ISO 8601 text as an aware datetime (naive means UTC); cached like `iso`."""
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_timestamp(value, default: datetime) -> datetime:
    if isinstance(value, str):
        try:
            return timestamp_from_text(value)
        except ValueError:
            return default
    return default


def clean_text(text: str, mask: list[str]) -> str:
    """Mask secret values, drop NUL characters (PostgreSQL text cannot hold them), cut at 16 KB."""
    for value in mask:
        if value in text:
            text = text.replace(value, "***")
    if "\x00" in text:
        text = text.replace("\x00", "\ufffd")
    if len(text) > MAX_LINE_CHARS:
        text = text[:MAX_LINE_CHARS] + CUT_MARKER
    return text


def parse_lines(lines: list[dict], mask: list[str]) -> list[Line]:
    """The batch as Lines sorted by seq, one per seq (the first wins), lines without a seq dropped."""
    now = datetime.now(UTC)
    mask = [value for value in mask if value]
    parsed: dict[int, Line] = {}
    for line in lines:
        if not isinstance(line, dict):
            continue
        seq = line.get("seq")
        if type(seq) is not int:
            try:
                seq = int(seq)
            except (TypeError, ValueError):
                continue
        if seq <= 0 or seq in parsed:
            continue
        text = line.get("text", "")
        text = clean_text(text if type(text) is str else str(text), mask)
        step = line.get("step")
        stream = line.get("stream") or "stdout"
        parsed[seq] = Line(
            seq,
            step if type(step) is int else None,
            parse_timestamp(line.get("ts"), now),
            stream if stream == "stdout" else str(stream)[:STREAM_CHARS],
            line_level(text),
            text,
        )
    return [parsed[seq] for seq in sorted(parsed)]


def budget_marker_text(*, dropped: int, budget: int) -> str:
    return (
        f"##[warning]{dropped} lines dropped: this job printed more than its budget of {budget} lines; "
        "the first and the last lines are kept."
    )


@lru_cache(maxsize=8192)
def iso(moment: datetime) -> str:
    """ISO 8601 with "Z" for UTC, as DRF writes it; cached, since a batch's lines share timestamps."""
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def line_payload(line) -> dict:
    """A line as the REST API and the websocket show it."""
    return {
        "seq": line.seq,
        "step": line.step,
        "ts": iso(line.timestamp),
        "stream": line.stream,
        "level": line.level,
        "text": line.text,
    }


def archive_encode(lines: list) -> bytes:
    """Lines as gzip-compressed JSON lines: [seq, step, ts, stream, level, text]."""
    rows = (
        json.dumps([line.seq, line.step, iso(line.timestamp), line.stream, line.level, line.text])
        for line in lines
    )
    return gzip.compress("\n".join(rows).encode(), compresslevel=6)


def archive_decode(data: bytes) -> list[Line]:
    text = gzip.decompress(bytes(data)).decode()
    lines = []
    for row in text.split("\n") if text else ():
        seq, step, ts, stream, level, body = json.loads(row)
        lines.append(Line(seq, step, datetime.fromisoformat(ts), stream, level, body))
    return lines
