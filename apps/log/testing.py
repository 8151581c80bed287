"""Test helpers: every stored line of the job attempts that match LogChunk filters; the lines of a
websocket `log.appended` message."""

from typing import NamedTuple

from apps.log.chunks import chunk_decode, chunk_lines
from apps.log.lines import Line
from apps.log.models import LogChunk
from apps.log.selectors import CHUNK_FIELDS


class StoredLine(NamedTuple):
    job_key: str
    attempt: int
    line: Line

    @property
    def text(self) -> str:
        return self.line.text


def stored_log_lines(**filters) -> list[StoredLine]:
    """Lines of the chunks matching `filters` (e.g. job__build=build, job__key="a"), in order of
    job, attempt and seq. The budget's hiding is not applied."""
    chunks = LogChunk.objects.filter(**filters).order_by("job_id", "attempt", "first_seq")
    found = []
    for key, attempt, *row in chunks.values_list("job__key", "attempt", *CHUNK_FIELDS):
        found += [StoredLine(key, attempt, line) for line in chunk_decode(*row)]
    return found


def stored_log_texts(**filters) -> list[str]:
    return [stored.text for stored in stored_log_lines(**filters)]


def message_lines(message: dict) -> list[Line]:
    """The lines of a `log.appended` message as a websocket client received it (JSON parsed)."""
    return chunk_lines(message["first_seq"], message["line_count"], message["text"], message["meta"])
