"""Ingest: idempotent by (job, attempt, seq), gap-aware, levels, cut and masked lines, the budget."""

import pytest
from django.test import override_settings

from apps.log.lines import CUT_MARKER, MAX_LINE_CHARS
from apps.log.models import LogCursor
from apps.log.selectors import log_lines_page, log_total_lines
from apps.log.services import log_lines_append
from apps.log.testing import stored_log_lines


def lines(first: int, last: int, **fields) -> list[dict]:
    return [{"seq": seq, "step": 0, "text": f"line {seq}", **fields} for seq in range(first, last + 1)]


def stored(job, attempt: int = 1) -> list[tuple[int, str]]:
    return [(line.seq, line.text) for line in log_lines_page(job=job, attempt=attempt, limit=10_000)]


def marker_line(job, seq: int):
    return next(line for line in log_lines_page(job=job, attempt=1) if line.seq == seq)


@pytest.fixture
def job(start):
    return start().jobs.get(key="compile")


def test_a_batch_sent_twice_is_stored_once(job):
    assert log_lines_append(job=job, attempt=1, lines=lines(1, 5)) == 5
    assert log_lines_append(job=job, attempt=1, lines=lines(1, 5)) == 5
    assert log_lines_append(job=job, attempt=1, lines=lines(4, 8)) == 8
    assert stored(job) == [(seq, f"line {seq}") for seq in range(1, 9)]
    assert log_total_lines(job=job, attempt=1) == 8


def test_a_gap_holds_stored_through_until_filled(job):
    assert log_lines_append(job=job, attempt=1, lines=lines(1, 3)) == 3
    assert log_lines_append(job=job, attempt=1, lines=lines(7, 9)) == 3
    assert log_lines_append(job=job, attempt=1, lines=lines(4, 6)) == 9
    assert [seq for seq, _ in stored(job)] == list(range(1, 10))


def test_attempts_are_numbered_apart(job):
    log_lines_append(job=job, attempt=1, lines=lines(1, 3))
    assert log_lines_append(job=job, attempt=2, lines=lines(1, 2)) == 2
    assert len(stored(job, 1)) == 3 and len(stored(job, 2)) == 2


def test_levels_come_from_workflow_command_markers(job):
    texts = ["::error::boom", "##[error]Process completed with exit code 1", "::warning file=a.py::careful",
             "##[warning]deprecated", "  ::error::indented", "an error happened", "::group::Build"]
    log_lines_append(job=job, attempt=1, lines=[{"seq": i + 1, "text": t} for i, t in enumerate(texts)])
    levels = [line.level for line in log_lines_page(job=job, attempt=1)]
    assert levels == ["error", "error", "warning", "warning", "error", "", ""]


def test_long_lines_are_cut_with_a_marker_masks_applied_and_nul_replaced(job):
    log_lines_append(
        job=job,
        attempt=1,
        lines=[{"seq": 1, "text": "x" * (MAX_LINE_CHARS + 10)}, {"seq": 2, "text": "token=s3cret\x00!"}],
        mask=["s3cret"],
    )
    first, second = log_lines_page(job=job, attempt=1)
    assert first.text == "x" * MAX_LINE_CHARS + CUT_MARKER
    assert second.text == "token=***\ufffd!"


def test_stream_step_and_timestamp_are_kept_and_bad_input_is_tolerated(job):
    log_lines_append(
        job=job,
        attempt=1,
        lines=[
            {"seq": 1, "ts": "2025-01-31T12:00:00.123Z", "step": 2, "stream": "system", "text": "a"},
            {"seq": "x", "text": "no seq"},
            "not an object",
            {"seq": 0, "text": "zero"},
            {"seq": 2, "ts": "not a time", "step": "nope", "text": "b"},
        ],
    )
    first, second = log_lines_page(job=job, attempt=1)
    assert (first.seq, first.step, first.stream) == (1, 2, "system")
    assert first.ts == "2025-01-31T12:00:00.123000Z"
    assert (second.seq, second.step, second.stream) == (2, None, "stdout")


@override_settings(DEVOPS_LOG_LINE_BUDGET=10)
def test_over_the_budget_the_first_and_last_lines_are_kept_with_a_marker(job):
    for first in range(1, 26, 4):
        log_lines_append(job=job, attempt=1, lines=lines(first, min(first + 3, 25)))
    kept = stored(job)
    assert len(kept) == 10
    assert [seq for seq, _ in kept] == [1, 2, 3, 4, 5, 6, 22, 23, 24, 25]
    marker = marker_line(job, 6)
    assert "16 lines dropped" in marker.text and marker.level == "warning" and marker.stream == "system"
    assert len(stored_log_lines(job=job)) <= 10 + 4, "whole chunks out of the budget are deleted"
    cursor = LogCursor.objects.get(job=job, attempt=1)
    assert (cursor.stored_through, cursor.max_seq, cursor.dropped) == (25, 25, 16)
    assert log_lines_append(job=job, attempt=1, lines=lines(10, 25)) == 25, "a resend changes nothing"
    assert stored(job) == kept


@override_settings(DEVOPS_LOG_LINE_BUDGET=10)
def test_one_big_batch_over_the_budget(job):
    assert log_lines_append(job=job, attempt=1, lines=lines(1, 100)) == 100
    assert [seq for seq, _ in stored(job)] == [1, 2, 3, 4, 5, 6, 97, 98, 99, 100]
    assert "91 lines dropped" in marker_line(job, 6).text
    assert [stored.line.seq for stored in stored_log_lines(job=job)] == [1, 2, 3, 4, 5, 97, 98, 99, 100]


def test_exactly_the_budget_drops_nothing(job, settings):
    settings.DEVOPS_LOG_LINE_BUDGET = 20
    log_lines_append(job=job, attempt=1, lines=lines(1, 20))
    assert [seq for seq, _ in stored(job)] == list(range(1, 21))
    assert LogCursor.objects.get(job=job).dropped == 0
