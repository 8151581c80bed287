"""Status roll-up: how job statuses make a stage's, stages' make a build's, and the words
(`success`, `failure`, `cancelled`, `skipped`) that expressions see.

Worst-of order, least to most severe: skipped, succeeded, canceled, timed_out, failed. `skipped`
only wins when everything was skipped (a stage whose jobs were all skipped is skipped); an empty
list rolls up to succeeded. `canceled` ranks below the failures so that a stage whose failed job
canceled its siblings (fast-kill, fail-fast) ends `failed`; a build whose cancel was requested
ends `canceled` whatever its stages say (see `build_result`).
"""
from __future__ import annotations

from collections.abc import Iterable

from .states import CANCELED, FAILED, FAILURES, SKIPPED, SUCCEEDED, TERMINAL, TIMED_OUT

SEVERITY = {SKIPPED: 0, SUCCEEDED: 1, CANCELED: 2, TIMED_OUT: 3, FAILED: 4}

RESULT_WORDS = {
    SUCCEEDED: "success",
    FAILED: "failure",
    TIMED_OUT: "failure",
    CANCELED: "cancelled",
    SKIPPED: "skipped",
}


def worst_status(statuses: Iterable[str]) -> str:
    """The most severe of terminal statuses; skipped only when nothing else is there."""
    statuses = list(statuses)
    ranked = [status for status in statuses if status != SKIPPED]
    if ranked:
        return max(ranked, key=SEVERITY.__getitem__)
    return SKIPPED if statuses else SUCCEEDED


def rollup(statuses: Iterable[str]) -> str | None:
    """`worst_status` once every status is terminal, else None (still in progress)."""
    statuses = list(statuses)
    if any(status not in TERMINAL for status in statuses):
        return None
    return worst_status(statuses)


def effective_status(status: str, continue_on_error: bool) -> str:
    """What a job or step counts as: a failure tolerated by continue-on-error counts as success."""
    if continue_on_error and status in FAILURES:
        return SUCCEEDED
    return status


def result_word(status: str) -> str | None:
    """GitHub's word for a terminal status (`steps.*.outcome`, `needs.*.result`), None before."""
    return RESULT_WORDS.get(status)


def build_result(stage_statuses: Iterable[str], cancel_requested: bool) -> str:
    """A finished build's status: canceled when cancel was requested, else the worst stage."""
    if cancel_requested:
        return CANCELED
    return worst_status(stage_statuses)
