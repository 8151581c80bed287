"""Chunk storage: the format round-trips, and every read path gives the same lines in order
whatever the chunks look like: out-of-order batches, a budget cutting through a chunk, lines
waiting for the search index."""

import pytest
from django.db import connection
from django.test import override_settings

from apps.log.chunks import chunk_decode, chunk_encode, chunk_seq_list, runs
from apps.log.lines import NEWLINE_SYMBOL, Line, parse_lines
from apps.log.models import LogChunk
from apps.log.selectors import SearchTarget, log_lines_page, log_search, log_text_chunks
from apps.log.services import log_chunks_index, log_lines_append
from apps.log.testing import stored_log_lines


@pytest.fixture
def job(start):
    return start().jobs.get(key="compile")


def batch(seqs, text="line {seq}", **fields) -> list[dict]:
    return [{"seq": seq, "text": text.format(seq=seq), **fields} for seq in seqs]


def read_all(job) -> list[tuple[int, str]]:
    return [(line.seq, line.text) for line in log_lines_page(job=job, attempt=1, limit=100_000)]


def text_of(job) -> str:
    return "".join(log_text_chunks(job=job, attempt=1))


def search(job, query: str, regex: bool = False) -> list[int]:
    found = log_search(targets=[SearchTarget(job, 1)], query=query, regex=regex).matches
    return [match["seq"] for match in found]


def test_the_format_round_trips_with_mixed_fields_and_gaps():
    lines = [
        Line(3, 0, "2026-12-06T11:00:00.001000Z", "stdout", "", "a"),
        Line(4, 0, "2026-12-06T11:00:00.001000Z", "stdout", "error", "::error::b"),
        Line(9, None, "2026-12-06T11:00:00.002000Z", "system", "", ""),
    ]
    chunk = chunk_encode(lines)
    assert (chunk.first_seq, chunk.last_seq, chunk.line_count, chunk.consecutive) == (3, 9, 3, False)
    assert chunk_decode(chunk.first_seq, chunk.line_count, chunk.text, chunk.meta) == lines
    assert chunk_seq_list(chunk.first_seq, chunk.line_count, chunk.meta) == [3, 4, 9]
    assert runs((1, 1, 2, 1)) == [1, 2, 2, 1, 1, 1]


def test_a_newline_inside_a_line_cannot_split_it(job):
    log_lines_append(job=job, attempt=1, lines=[{"seq": 1, "text": "one\ntwo"}, {"seq": 2, "text": ""}])
    assert read_all(job) == [(1, f"one{NEWLINE_SYMBOL}two"), (2, "")]
    assert text_of(job) == f"one{NEWLINE_SYMBOL}two\n\n"


def test_batches_out_of_order_and_with_holes_read_in_order(job):
    log_lines_append(job=job, attempt=1, lines=batch([1, 2, 6, 9]))
    log_lines_append(job=job, attempt=1, lines=batch([3, 4, 5, 7, 8]))
    expected = [(seq, f"line {seq}") for seq in range(1, 10)]
    assert read_all(job) == expected
    assert [line.seq for line in log_lines_page(job=job, attempt=1, after_seq=4, limit=3)] == [5, 6, 7]
    assert text_of(job) == "".join(f"{text}\n" for _, text in expected)
    assert search(job, "line") == list(range(1, 10))


def test_a_page_skips_a_long_hole(job):
    log_lines_append(job=job, attempt=1, lines=batch([1, 2]))
    log_lines_append(job=job, attempt=1, lines=batch([50_000, 50_001]))
    page = log_lines_page(job=job, attempt=1, after_seq=1, limit=10)
    assert [line.seq for line in page] == [2, 50_000, 50_001]


@override_settings(DEVOPS_LOG_LINE_BUDGET=10)
def test_the_budget_reads_the_same_everywhere(job):
    for first in range(1, 40, 7):
        log_lines_append(job=job, attempt=1, lines=batch(range(first, first + 7), text="out {seq}"))
    seqs = [seq for seq, _ in read_all(job)]
    assert seqs == [1, 2, 3, 4, 5, 6, 39, 40, 41, 42]
    text = text_of(job).splitlines()
    assert text[:5] == [f"out {seq}" for seq in range(1, 6)]
    assert text[6:] == [f"out {seq}" for seq in range(39, 43)]
    assert "33 lines dropped" in text[5]
    assert search(job, "out") == [1, 2, 3, 4, 5, 39, 40, 41, 42]
    assert search(job, "lines dropped") == [6]
    assert [line.seq for line in log_lines_page(job=job, attempt=1, after_seq=4, limit=3)] == [5, 6, 39]


def test_search_anchors_and_classes_work_per_line(job):
    log_lines_append(job=job, attempt=1, lines=batch(range(1, 6), text="step {seq} done"))
    assert search(job, r"^step 3", regex=True) == [3]
    assert search(job, r"done$", regex=True) == [1, 2, 3, 4, 5]
    assert search(job, r"1[^\n]*2", regex=True) == []
    assert search(job, "DONE") == [1, 2, 3, 4, 5]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL: the search index exists there only"
)
def test_chunks_are_searchable_before_and_after_they_enter_the_index(job):
    log_lines_append(job=job, attempt=1, lines=batch(range(1, 4), text="alpha {seq}"))
    assert log_chunks_index() == 1
    log_lines_append(job=job, attempt=1, lines=batch(range(4, 7), text="alpha {seq}"))
    assert list(LogChunk.objects.filter(job=job).order_by("first_seq").values_list("indexed", flat=True)) == [
        True, False]
    assert search(job, "alpha") == [1, 2, 3, 4, 5, 6]
    assert log_chunks_index() == 1 and log_chunks_index() == 0
    assert search(job, "alpha 5") == [5]


def test_parse_lines_keeps_the_agents_time_and_replaces_a_bad_one():
    first, second = parse_lines(
        [{"seq": 1, "ts": "2026-12-06T11:00:00.120Z"}, {"seq": 2, "ts": "2026-13-06T11:00:00.120Z"}], []
    )
    assert first.ts == "2026-12-06T11:00:00.120000Z"
    assert second.ts != first.ts and second.ts.endswith("Z")


def test_a_resend_of_a_partly_stored_batch_stores_only_the_rest(job):
    log_lines_append(job=job, attempt=1, lines=batch([1, 2, 3, 7]))
    assert log_lines_append(job=job, attempt=1, lines=batch(range(1, 9), text="again {seq}")) == 8
    assert read_all(job) == [(1, "line 1"), (2, "line 2"), (3, "line 3"), (4, "again 4"), (5, "again 5"),
                             (6, "again 6"), (7, "line 7"), (8, "again 8")]
    assert len(stored_log_lines(job=job)) == 8
