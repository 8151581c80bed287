"""Stage reviews and quality gates in the engine's decisions: tables of states, no database."""

from __future__ import annotations

import pytest

from apps.process.engine import GateChecked, GateExpired, ReviewExpired, ReviewRequested, decide_build
from apps.process.engine.gates import evaluate_indicator, gates_outcome, stage_gates
from apps.process.engine.states import GateBlock, ReviewState

from .plans import plan_of
from .simulate import Script, resume, simulate

REVIEWED = """
on: push
stages:
  - name: build
    jobs: {a: {runs-on: x, steps: [{run: 'true'}]}}
  - name: release
    check-in:
      reviews:
        reviewers: ["${{ ci.actor }}", "role:maintainer"]
        description: "ship ${{ ci.branch }}?"
        timeout-hours: 2
        inputs: {target: {type: choice, options: [dev, prod], default: dev}}
    jobs: {ship: {runs-on: x, steps: [{run: 'true'}]}}
"""

GATED = """
on: push
stages:
  - name: test
    jobs: {unit: {runs-on: x, steps: [{run: 'true'}]}}
    check-out:
      gates:
        - {name: coverage, rule: ["coverage.line >= 80", "tests.failed == 0"]}
  - name: deploy
    jobs: {ship: {runs-on: x, steps: [{run: 'true'}]}}
"""

KEPT = GATED.replace(
    '"tests.failed == 0"]}',
    '"tests.failed == 0"], continue-on-fail: {gatekeepers: [bob], timeout-minutes: 30}}',
)

CHECKED_IN = """
on: push
stages:
  - name: build
    jobs: {a: {runs-on: x, steps: [{run: 'true'}]}}
  - name: deploy
    check-in: {gates: [{name: lint, rule: ["lint.errors == 0"]}]}
    jobs: {ship: {runs-on: x, steps: [{run: 'true'}]}}
"""


def stage_statuses(sim) -> list[str]:
    return [stage.status for stage in sim.state.stages]


def review_request(sim) -> ReviewRequested:
    return next(change for change in sim.changes if isinstance(change, ReviewRequested))


def test_a_review_request_carries_the_rendered_reviewers_description_inputs_and_deadline():
    sim = simulate(plan_of(REVIEWED))
    request = review_request(sim)
    assert request.reviewers == ("alice", "role:maintainer")
    assert request.description == "ship main?"
    assert request.inputs["target"]["options"] == ["dev", "prod"]
    assert request.deadline == sim.now + 2 * 3600
    assert stage_statuses(sim) == ["succeeded", "waiting_review"]
    assert sim.state.status == "waiting_review"


def test_an_approved_review_runs_the_stage():
    sim = simulate(plan_of(REVIEWED))
    deadline = review_request(sim).deadline
    resume(sim, reviews={1: ReviewState("approved", deadline)})
    assert stage_statuses(sim) == ["succeeded", "succeeded"]
    assert sim.state.status == "succeeded"


def test_a_rejected_review_cancels_the_stage_and_the_build_with_the_reason():
    sim = simulate(plan_of(REVIEWED))
    deadline = review_request(sim).deadline
    resume(sim, reviews={1: ReviewState("rejected", deadline, "the review was rejected by bob: not today")})
    assert stage_statuses(sim) == ["succeeded", "canceled"]
    assert sim.status("ship") == "canceled"
    assert sim.state.status == "canceled"
    assert sim.state.reason == "stage release canceled: the review was rejected by bob: not today"


def test_a_review_past_its_deadline_times_out_and_cancels():
    sim = simulate(plan_of(REVIEWED))
    deadline = review_request(sim).deadline
    resume(sim, at=deadline - 1)
    assert stage_statuses(sim) == ["succeeded", "waiting_review"]
    resume(sim, at=deadline)
    assert ReviewExpired(1) in sim.changes
    assert sim.state.status == "canceled"
    assert "the review timed out after 2 hours" in sim.state.reason


@pytest.mark.parametrize(
    ("metrics", "stages", "build"),
    [
        ({"coverage.line": 85.5, "tests.failed": 0}, ["succeeded", "succeeded"], "succeeded"),
        ({"coverage.line": 70, "tests.failed": 0}, ["failed", "skipped"], "failed"),
        ({"coverage.line": 90}, ["failed", "skipped"], "failed"),
    ],
)
def test_check_out_gates_pass_or_fail_the_stage(metrics, stages, build):
    sim = simulate(plan_of(GATED), metrics=metrics)
    assert stage_statuses(sim) == stages
    assert sim.state.status == build
    checked = [change for change in sim.changes if isinstance(change, GateChecked)]
    assert len(checked) == 1 and checked[0].point == "check-out"


def test_a_failed_gate_names_the_rule_and_the_value_seen():
    sim = simulate(plan_of(GATED), metrics={"coverage.line": 70, "tests.failed": 0})
    assert sim.state.stages[0].reason == "gate coverage: coverage.line is 70 (wanted coverage.line >= 80)"


def test_a_missing_metric_fails_as_not_reported():
    sim = simulate(plan_of(GATED), metrics={"coverage.line": 90})
    assert "tests.failed not reported (wanted tests.failed == 0)" in sim.state.stages[0].reason


def test_a_gate_with_gatekeepers_blocks_until_overridden():
    sim = simulate(plan_of(KEPT), metrics={"coverage.line": 50, "tests.failed": 0})
    assert stage_statuses(sim) == ["blocked", "pending"]
    assert sim.state.status == "blocked"
    checked = next(change for change in sim.changes if isinstance(change, GateChecked))
    assert checked.outcome == "blocked" and checked.deadline == sim.now + 30 * 60
    resume(sim, blocks={0: GateBlock("check-out", checked.deadline, overridden=True)})
    assert stage_statuses(sim) == ["succeeded", "succeeded"]
    assert sim.state.status == "succeeded"


def test_a_blocked_gate_fails_when_its_timeout_passes():
    sim = simulate(plan_of(KEPT), metrics={"coverage.line": 50, "tests.failed": 0})
    deadline = sim.state.blocks[0].deadline
    resume(sim, at=deadline)
    assert GateExpired(0) in sim.changes
    assert stage_statuses(sim) == ["failed", "skipped"]
    assert sim.state.reason == "stage test failed: the quality gate was not overridden in time"


def test_check_in_gates_read_earlier_metrics_before_jobs_run():
    sim = simulate(plan_of(CHECKED_IN), metrics={"lint.errors": 3})
    assert stage_statuses(sim) == ["succeeded", "failed"]
    assert sim.status("ship") == "skipped"
    sim = simulate(plan_of(CHECKED_IN), metrics={"lint.errors": 0})
    assert sim.status("ship") == "succeeded"


def test_a_failed_stage_checks_no_gate():
    sim = simulate(plan_of(GATED), {"unit": Script(fail=(0,))}, metrics={})
    assert not [change for change in sim.changes if isinstance(change, GateChecked)]
    assert sim.state.stages[0].reason.startswith("job unit failed")


def test_canceling_a_blocked_build_cancels_the_stage():
    sim = simulate(plan_of(KEPT), metrics={})
    resume(sim, cancel_requested=True)
    assert stage_statuses(sim) == ["canceled", "canceled"]


RULE = {
    "name": "no-failures",
    "rule_id": 7,
    "control_point": "check-out",
    "stage": "test",
    "gate": "",
    "indicators": [{"metric": "tests.failed", "operator": "==", "threshold": 0, "type": "int"}],
    "action": "block",
    "gatekeepers": [],
    "timeout_minutes": 60,
}


def test_database_rules_attach_to_a_stage_by_name_and_block():
    sim = simulate(plan_of(GATED), metrics={"coverage.line": 99, "tests.failed": 2}, rules=[RULE])
    assert stage_statuses(sim) == ["failed", "skipped"]  # the YAML gate fails, which wins over a block
    sim = simulate(plan_of(GATED), metrics={"coverage.line": 99, "tests.failed": 0}, rules=[RULE])
    assert stage_statuses(sim) == ["succeeded", "succeeded"]


def test_a_yaml_gate_without_rules_takes_the_rules_named_after_it():
    plan = plan_of(
        GATED.replace(
            'rule: ["coverage.line >= 80", "tests.failed == 0"]', "continue-on-fail: {gatekeepers: [bob]}"
        )
    )
    gates = stage_gates(
        plan["stages"][0], "check-out", [{**RULE, "control_point": "gate", "gate": "coverage"}]
    )
    assert [gate["rule_id"] for gate in gates] == [7]
    unnamed = stage_gates(plan["stages"][0], "check-out", [])
    assert unnamed[0]["indicators"] == []
    sim = simulate(plan, metrics={})
    assert "no quality rule named coverage" in sim.state.stages[0].reason


@pytest.mark.parametrize(
    ("indicator", "value", "passed"),
    [
        (("coverage.line", ">=", 80, "float"), "80.0", True),
        (("tests.failed", "<", 1, "int"), 0, True),
        (("release", "==", "true", "bool"), True, True),
        (("release", "==", "true", "bool"), "no", False),
        (("branch", "!=", "main", "string"), "dev", True),
        (("coverage.line", ">", 50, "float"), "n/a", False),
        (("coverage.line", ">", 50, "float"), True, False),
    ],
)
def test_indicators_compare_by_their_data_type(indicator, value, passed):
    metric, operator, threshold, kind = indicator
    item = {"metric": metric, "operator": operator, "threshold": threshold, "type": kind}
    assert evaluate_indicator(item, {metric: value})["passed"] is passed


def test_blocking_only_when_every_failing_gate_blocks():
    from apps.process.engine.gates import GateVerdict

    block = GateVerdict({"name": "a", "action": "block"}, False, ())
    fail = GateVerdict({"name": "b", "action": "fail"}, False, ())
    ok = GateVerdict({"name": "c", "action": "fail"}, True, ())
    assert gates_outcome([ok]) == "passed"
    assert gates_outcome([ok, block]) == "blocked"
    assert gates_outcome([block, fail]) == "failed"


def test_deciding_again_while_waiting_changes_nothing():
    sim = simulate(plan_of(REVIEWED))
    deadline = review_request(sim).deadline
    state = sim.state
    assert decide_build(sim.plan, state, sim.now) == []
    assert state.reviews[1] == ReviewState("waiting", deadline)
