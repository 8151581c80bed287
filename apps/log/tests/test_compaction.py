"""Compaction: runs of small chunks merged into one before they enter the search index, the lines
read back exactly as they were stored."""

import pytest
from django.db import connection
from django.test import override_settings

from apps.log.models import LogChunk
from apps.log.selectors import log_lines_page
from apps.log.services import log_chunks_compact, log_lines_append
from apps.log.tasks import logs_index


def append(job, first: int, last: int, step: int = 0) -> int:
    lines = [{"seq": seq, "step": step, "text": f"line {seq}"} for seq in range(first, last + 1)]
    return log_lines_append(job=job, attempt=1, lines=lines)


def chunk_sizes(job) -> list[tuple[int, int]]:
    return list(LogChunk.objects.filter(job=job).order_by("first_seq").values_list("first_seq", "line_count"))


def read(job) -> list[tuple]:
    return [(line.seq, line.step, line.text) for line in log_lines_page(job=job, attempt=1, limit=10_000)]


@pytest.fixture
def job(start):
    return start().jobs.get(key="compile")


def test_a_slow_printers_batches_become_one_chunk_and_read_the_same(job):
    for first in range(1, 300, 10):
        append(job, first, first + 9, step=first // 100)
    before = read(job)
    assert len(chunk_sizes(job)) == 30
    assert log_chunks_compact() == 29
    assert chunk_sizes(job) == [(1, 300)]
    assert read(job) == before and len(before) == 300


def test_runs_stop_at_a_big_chunk_and_at_the_merged_size(job):
    append(job, 1, 10)
    append(job, 11, 20)
    append(job, 21, 1020)  # 1,000 lines: not small
    for first in range(1021, 6021, 500):
        append(job, first, first + 499)  # ten chunks of 500: two merged chunks of 5,000 at most
    log_chunks_compact()
    assert chunk_sizes(job) == [(1, 20), (21, 1000), (1021, 5000)]
    assert [seq for seq, _, _ in read(job)] == list(range(1, 6021))


def test_lines_after_a_gap_and_indexed_chunks_are_left_as_they_are(job):
    append(job, 1, 5)
    append(job, 6, 10)
    LogChunk.objects.filter(job=job, first_seq=6).update(indexed=True)
    append(job, 11, 15)
    append(job, 16, 20)
    append(job, 31, 35)  # after a gap: stored through 20
    append(job, 36, 40)
    log_chunks_compact()
    assert chunk_sizes(job) == [(1, 5), (6, 5), (11, 10), (31, 5), (36, 5)]


@override_settings(DEVOPS_LOG_LINE_BUDGET=20)
def test_an_attempt_whose_budget_dropped_lines_is_left_as_it_is(job):
    for first in range(1, 40, 5):
        append(job, first, first + 4)
    chunks = chunk_sizes(job)
    assert log_chunks_compact() == 0 and chunk_sizes(job) == chunks


def test_the_periodic_task_compacts_then_indexes(job):
    append(job, 1, 5)
    append(job, 6, 10)
    assert logs_index() == {"merged": 1, "indexed": 1 if connection.vendor == "postgresql" else 0}
    assert chunk_sizes(job) == [(1, 10)]
