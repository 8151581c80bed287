"""A chunk: the lines of one ingested batch as one row, pure (no database here).

The texts are joined by newlines into one text column (searchable, and a download copies it out
as it is); the other fields ride beside them in `meta`, a small JSON object of run-length columns,
since the lines of a batch mostly share their step, stream, level and millisecond:

    {"step": [0, 998, 1, 2], "ts": ["2026-12-06T11:00:00.001Z", 1000], "stream": ["stdout", 1000],
     "level": ["", 1000], "seq": [...]}

`seq` is there only when the chunk's line numbers are not consecutive from its first one.
A line's own newline cannot be stored: ingest turns it into U+2424 (see lines.clean_text).
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import repeat

from apps.log.lines import (
    LEVEL_MARKER_STARTS,
    MAX_LINE_CHARS,
    STREAM_CHARS,
    Line,
    clean_text,
    iso,
    line_level,
    stored_ts,
)

SEPARATOR = "\n"


@dataclass(frozen=True, slots=True)
class Chunk:
    first_seq: int
    last_seq: int
    line_count: int
    text: str
    meta: str

    @property
    def consecutive(self) -> bool:
        return self.last_seq - self.first_seq + 1 == self.line_count


def runs(values: tuple) -> list:
    """[value, count, value, count, ...] for consecutive equal values."""
    if values.count(values[0]) == len(values):
        return [values[0], len(values)]
    flat: list = []
    previous, count = values[0], 0
    for value in values:
        if value == previous:
            count += 1
            continue
        flat += (previous, count)
        previous, count = value, 1
    flat += (previous, count)
    return flat


def expand(flat: list) -> list:
    if len(flat) == 2:
        return [flat[0]] * flat[1]
    out: list = []
    for index in range(0, len(flat), 2):
        out.extend(repeat(flat[index], flat[index + 1]))
    return out


def chunk_encode(lines: list[Line]) -> Chunk:
    """Lines in ascending seq order, at least one."""
    seqs, steps, stamps, streams, levels, texts = zip(*lines, strict=True)
    first, last = seqs[0], seqs[-1]
    meta = {"step": runs(steps), "ts": runs(stamps), "stream": runs(streams), "level": runs(levels)}
    if last - first + 1 != len(seqs):
        meta["seq"] = seqs
    return Chunk(first, last, len(seqs), SEPARATOR.join(texts), meta_text(meta))


def meta_text(meta: dict) -> str:
    return json.dumps(meta, separators=(",", ":"), ensure_ascii=False)


def chunk_seqs(first_seq: int, line_count: int, meta: dict) -> list[int]:
    return meta.get("seq") or list(range(first_seq, first_seq + line_count))


def chunk_decode(first_seq: int, line_count: int, text: str, meta: str) -> list[Line]:
    return chunk_lines(first_seq, line_count, text, json.loads(meta))


def chunk_lines(first_seq: int, line_count: int, text: str, columns: dict) -> list[Line]:
    """The lines of a chunk whose meta is already parsed (as a websocket client receives it)."""
    texts = text.split(SEPARATOR) if line_count > 1 else [text]
    return list(
        map(
            Line,
            chunk_seqs(first_seq, line_count, columns),
            expand(columns["step"]),
            expand(columns["ts"]),
            expand(columns["stream"]),
            expand(columns["level"]),
            texts,
        )
    )


def chunk_after(chunk: Chunk, after: int) -> Chunk | None:
    """The chunk without its lines numbered `after` or below: itself when it has none, else None
    when nothing is left."""
    if chunk.first_seq > after:
        return chunk
    if chunk.last_seq <= after:
        return None
    lines = [line for line in chunk_decode(chunk.first_seq, chunk.line_count, chunk.text, chunk.meta)
             if line.seq > after]
    return chunk_encode(lines) if lines else None


def chunk_seq_list(first_seq: int, line_count: int, meta: str) -> list[int]:
    """The chunk's line numbers without decoding its lines."""
    if '"seq"' not in meta:
        return list(range(first_seq, first_seq + line_count))
    return chunk_seqs(first_seq, line_count, json.loads(meta))


def checked_runs(columns: dict, name: str, count: int, clean) -> list:
    """A column of runs from the agent with each run's value cleaned, refused (ValueError) unless
    its counts are positive integers covering exactly `count` lines; a missing one is one run."""
    flat = columns.get(name)
    if flat is None:
        return [clean(None), count]
    if type(flat) is not list or len(flat) % 2:
        raise ValueError(f"'{name}' must be a list of value, count pairs")
    counts = flat[1::2]
    if not all(type(times) is int and times > 0 for times in counts):
        raise ValueError(f"'{name}' counts must be positive integers")
    if sum(counts) != count:
        raise ValueError(f"'{name}' covers {sum(counts)} lines, 'texts' has {count}")
    return [clean(value) if index % 2 == 0 else value for index, value in enumerate(flat)]


def clean_texts(texts: list[str]) -> list[str]:
    """The texts as ingest stores them (see lines.clean_text), looked at one by one only when the
    batch as a whole holds something to clean."""
    joined = SEPARATOR.join(texts)
    if "\x00" in joined or joined.count(SEPARATOR) != len(texts) - 1 or max(map(len, texts)) > MAX_LINE_CHARS:
        return [clean_text(text, ()) for text in texts]
    return texts


def chunk_from_columns(columns: dict) -> Chunk | None:
    """A batch in the agent's column form (docs/agent-protocol.md) as a chunk, or None when it
    holds no line; raises ValueError saying what is malformed."""
    first, texts = columns.get("first_seq"), columns.get("texts")
    if type(first) is not int or first < 1:
        raise ValueError("'first_seq' must be a positive integer")
    if type(texts) is not list or not all(type(text) is str for text in texts):
        raise ValueError("'texts' must be a list of strings")
    if not texts:
        return None
    count, now = len(texts), iso(datetime.now(UTC))

    def stamp(value) -> str:
        return (type(value) is str and stored_ts(value)) or now

    texts = clean_texts(texts)
    meta = {
        "step": checked_runs(columns, "step", count, lambda value: value if type(value) is int else None),
        "ts": checked_runs(columns, "ts", count, stamp),
        "stream": checked_runs(columns, "stream", count, lambda value: str(value or "stdout")[:STREAM_CHARS]),
        "level": runs([line_level(text) if text[:1] in LEVEL_MARKER_STARTS else "" for text in texts]),
    }
    return Chunk(first, first + count - 1, count, SEPARATOR.join(texts), meta_text(meta))
