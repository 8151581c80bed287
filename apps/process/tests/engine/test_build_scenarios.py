"""Build decisions that need more than final statuses: max-parallel, retries, the review hook,
deferred matrix names and labels, reasons, and deciding on a state directly."""

from __future__ import annotations

from dataclasses import replace

from apps.process.engine import (
    BuildStatus,
    CancelJob,
    ExpandMatrix,
    JobStatus,
    StageStatus,
    apply_changes,
    decide_build,
    initial_build_state,
)

from .plans import plan_of
from .simulate import PUSH_TO_MAIN, Script, simulate

MATRIX_OF_FIVE = """
on: push
jobs:
  test:
    runs-on: x
    strategy: {max-parallel: 2, matrix: {n: [1, 2, 3, 4, 5]}}
    steps: [{run: 'true'}]
"""


def test_max_parallel_keeps_at_most_n_combinations_running():
    sim = simulate(plan_of(MATRIX_OF_FIVE), {"test.0": Script(duration=3)})
    assert sim.peak_running["test"] == 2
    assert sim.job_statuses() == {"test": ["succeeded"] * 5}
    assert sim.claimed == [f"test.{n}" for n in range(5)]
    assert sim.state.jobs["test.4"].started_at == 3


def test_max_parallel_queues_only_the_first_n_at_start():
    plan = plan_of(MATRIX_OF_FIVE)
    changes = decide_build(plan, initial_build_state(plan, PUSH_TO_MAIN), now=0)
    assert [change.job_key for change in changes if isinstance(change, JobStatus)] == ["test.0", "test.1"]


def test_a_failed_step_is_retried_with_the_next_attempt():
    plan = plan_of("""
    on: push
    jobs:
      flaky: {runs-on: x, steps: [{run: flaky, retry: 2}, {run: 'true'}]}
      hopeless: {runs-on: x, steps: [{run: broken, retry-times: 1}, {run: 'true'}]}
    """)
    sim = simulate(plan, {"flaky": Script(fail={0: 2}), "hopeless": Script(fail=[0])})
    assert [(step["index"], step["attempt"]) for step in sim.rendered["flaky"]] == [
        (0, 1),
        (0, 2),
        (0, 3),
        (1, 1),
    ]
    assert sim.status("flaky") == "succeeded"
    assert [(step["index"], step["attempt"]) for step in sim.rendered["hopeless"]] == [(0, 1), (0, 2)]
    assert sim.step_statuses("hopeless") == ["failed", "skipped"]
    assert sim.status("hopeless") == "failed"


REVIEWED = """
on: push
stages:
  - name: build
    jobs: {a: {runs-on: x, steps: [{run: 'true'}]}}
  - name: release
    check-in: {reviews: {reviewers: [alice]}}
    jobs: {ship: {runs-on: x, steps: [{run: 'true'}]}}
"""


def test_a_stage_with_reviews_waits_and_the_build_with_it():
    sim = simulate(plan_of(REVIEWED))
    assert [stage.status for stage in sim.state.stages] == ["succeeded", "waiting_review"]
    assert sim.state.status == "waiting_review"
    assert sim.status("ship") == "pending"
    assert decide_build(sim.plan, sim.state, sim.now) == []


def test_an_approved_stage_runs_its_jobs():
    sim = simulate(plan_of(REVIEWED))
    approved = replace(
        sim.state, stages=(sim.state.stages[0], replace(sim.state.stages[1], status="running"))
    )
    changes = decide_build(sim.plan, approved, sim.now)
    assert changes == [JobStatus("ship", "queued"), BuildStatus("running")]


def test_canceling_a_stage_waiting_for_review_ends_the_build():
    sim = simulate(plan_of(REVIEWED))
    changes = decide_build(sim.plan, replace(sim.state, cancel_requested=True), sim.now)
    assert changes == [
        StageStatus(1, "canceled", "the build was canceled"),
        JobStatus("ship", "canceled", "the build was canceled"),
        BuildStatus("canceled", "the build was canceled"),
    ]


def test_a_deferred_matrix_expands_with_names_keys_and_labels():
    plan = plan_of("""
    on: push
    jobs:
      setup: {runs-on: x, outputs: {m: "${{ steps.s.outputs.m }}"}, steps: [{id: s, run: emit}]}
      test:
        runs-on: ["${{ matrix.os }}"]
        needs: setup
        strategy: {matrix: "${{ fromJSON(needs.setup.outputs.m) }}", max-parallel: 1}
        steps: [{run: "echo ${{ matrix.os }}"}]
    """)
    sim = simulate(plan, {"setup": Script(outputs={0: {"m": '{"os": ["linux", "mac"]}'}})})
    expand = next(change for change in sim.changes if isinstance(change, ExpandMatrix))
    assert expand.job_key == "test"
    assert expand.keys == ("test.0", "test.1")
    assert expand.combinations == ({"os": "linux"}, {"os": "mac"})
    assert expand.names == ("test (linux)", "test (mac)")
    assert expand.labels == (("linux",), ("mac",))
    assert [sim.state.jobs[key].name for key in expand.keys] == ["test (linux)", "test (mac)"]
    assert [step["run"] for key in expand.keys for step in sim.rendered[key]] == ["echo linux", "echo mac"]
    assert sim.peak_running["test"] == 1


def test_a_deferred_matrix_waits_for_its_needs():
    plan = plan_of("""
    on: push
    jobs:
      setup: {runs-on: x, steps: [{run: emit}]}
      test: {runs-on: x, needs: setup, strategy: {matrix: "${{ fromJSON(needs.setup.outputs.m) }}"},
             steps: [{run: 'true'}]}
    """)
    changes = decide_build(plan, initial_build_state(plan, PUSH_TO_MAIN), now=0)
    assert not any(isinstance(change, ExpandMatrix) for change in changes)
    assert [change.job_key for change in changes if isinstance(change, JobStatus)] == ["setup"]


def test_reasons_say_why():
    plan = plan_of("""
    on: push
    jobs:
      a: {runs-on: x, steps: [{run: 'true'}]}
      b: {runs-on: x, needs: a, steps: [{run: 'true'}]}
      c: {runs-on: x, if: "fromJSON('nope')", steps: [{run: 'true'}]}
    """)
    sim = simulate(plan, {"a": Script(fail=[0])})
    assert sim.state.jobs["b"].reason == "a needed job failed (success())"
    assert sim.state.jobs["c"].reason.startswith("if: ")
    assert sim.state.jobs["a"].reason.startswith("step ")
    assert sim.state.reason.startswith("stage default failed: job ")


def test_a_running_job_is_told_to_stop_once():
    plan = plan_of("""
    on: push
    jobs:
      a: {runs-on: x, steps: [{run: 'true'}]}
    """)
    state = apply_changes(
        initial_build_state(plan, PUSH_TO_MAIN),
        decide_build(plan, initial_build_state(plan, PUSH_TO_MAIN), now=0),
    )
    running = replace(state, jobs={"a": replace(state.jobs["a"], status="running", started_at=0)})
    canceled = replace(running, cancel_requested=True)
    changes = decide_build(plan, canceled, now=1)
    assert changes == [CancelJob("a", "the build was canceled")]
    assert decide_build(plan, apply_changes(canceled, changes), now=1) == []
    assert apply_changes(canceled, changes).jobs["a"].status == "running"


def test_a_job_times_out_at_its_deadline_not_before():
    plan = plan_of("""
    on: push
    jobs:
      a: {runs-on: x, timeout-minutes: 2, steps: [{run: 'true'}]}
    """)
    state = initial_build_state(plan, PUSH_TO_MAIN)
    state = apply_changes(state, decide_build(plan, state, now=0))
    state = replace(state, jobs={"a": replace(state.jobs["a"], status="running", started_at=100)})
    assert decide_build(plan, state, now=219) == []
    changes = decide_build(plan, state, now=220)
    assert changes[:2] == [
        CancelJob("a", "timed out after 2 minutes"),
        JobStatus("a", "timed_out", "timed out after 2 minutes"),
    ]
    assert changes[-1] == BuildStatus("timed_out", changes[-1].reason)


def test_a_terminal_build_gets_no_changes():
    plan = plan_of("""
    on: push
    jobs:
      a: {runs-on: x, steps: [{run: 'true'}]}
    """)
    sim = simulate(plan)
    assert sim.state.status == "succeeded"
    assert decide_build(plan, replace(sim.state, cancel_requested=True), now=10**9) == []
