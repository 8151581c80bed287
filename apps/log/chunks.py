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
from itertools import repeat

from apps.log.lines import Line

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
    text = SEPARATOR.join(texts)
    return Chunk(first, last, len(seqs), text, json.dumps(meta, separators=(",", ":"), ensure_ascii=False))


def chunk_seqs(first_seq: int, line_count: int, meta: dict) -> list[int]:
    return meta.get("seq") or list(range(first_seq, first_seq + line_count))


def chunk_decode(first_seq: int, line_count: int, text: str, meta: str) -> list[Line]:
    columns = json.loads(meta)
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


def chunk_seq_list(first_seq: int, line_count: int, meta: str) -> list[int]:
    """The chunk's line numbers without decoding its lines."""
    if '"seq"' not in meta:
        return list(range(first_seq, first_seq + line_count))
    return chunk_seqs(first_seq, line_count, json.loads(meta))
