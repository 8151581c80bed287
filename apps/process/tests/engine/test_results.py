"""Status roll-up: worst-of with skipped and canceled in their places."""

from __future__ import annotations

import pytest

from apps.process.engine.results import build_result, effective_status, result_word, rollup, worst_status


@pytest.mark.parametrize(
    "statuses, expected",
    [
        ([], "succeeded"),
        (["skipped"], "skipped"),
        (["skipped", "skipped"], "skipped"),
        (["succeeded", "skipped"], "succeeded"),
        (["succeeded", "canceled"], "canceled"),
        (["canceled", "failed", "succeeded"], "failed"),
        (["timed_out", "canceled"], "timed_out"),
        (["timed_out", "failed"], "failed"),
        (["skipped", "failed"], "failed"),
    ],
)
def test_worst_status(statuses, expected):
    assert worst_status(statuses) == expected
    assert worst_status(iter(statuses)) == expected
    assert rollup(statuses) == expected


@pytest.mark.parametrize("status", ["pending", "queued", "running", "waiting_review", "blocked"])
def test_rollup_waits_for_every_status_to_be_terminal(status):
    assert rollup(["succeeded", status]) is None


def test_a_canceled_build_is_canceled_whatever_its_stages():
    assert build_result(["succeeded", "failed"], cancel_requested=True) == "canceled"
    assert build_result(["succeeded", "failed"], cancel_requested=False) == "failed"


def test_continue_on_error_turns_failures_into_success_only():
    assert effective_status("failed", True) == "succeeded"
    assert effective_status("timed_out", True) == "succeeded"
    assert effective_status("canceled", True) == "canceled"
    assert effective_status("failed", False) == "failed"


def test_result_words():
    assert [
        result_word(s) for s in ("succeeded", "failed", "timed_out", "canceled", "skipped", "running")
    ] == ["success", "failure", "failure", "cancelled", "skipped", None]
