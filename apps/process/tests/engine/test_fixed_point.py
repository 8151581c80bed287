"""Properties of the build decisions over many random runs: every run ends with everything
terminal; along the way (checked by the simulator at every decision) deciding twice gives the
same changes, the applied changes are a fixed point and no change is contradictory; and applying
only part of a decision then deciding again leads to the same state."""

from __future__ import annotations

from functools import cache

from hypothesis import given, settings
from hypothesis import strategies as st

from apps.process.engine import apply_changes, decide_build
from apps.process.engine.states import TERMINAL

from .plans import plan_of
from .simulate import Script, simulate

PIPELINES = [
    """
    on: push
    stages:
      - name: build
        fast-kill: true
        jobs:
          a: {runs-on: x, steps: [{run: a}]}
          b: {runs-on: x, needs: a, steps: [{run: b}]}
          c: {runs-on: x, needs: a, if: always(), steps: [{run: c}]}
      - name: test
        jobs:
          m: {runs-on: x, strategy: {max-parallel: 2, matrix: {n: [1, 2, 3]}}, steps: [{run: m}]}
          r: {runs-on: x, needs: m, if: failure(), steps: [{run: r}]}
    finally:
      cleanup: {runs-on: x, if: always(), steps: [{run: cleanup}]}
      report: {runs-on: x, if: failure(), steps: [{run: report}]}
    """,
    """
    on: push
    jobs:
      setup: {runs-on: x, outputs: {m: "${{ steps.s.outputs.m }}"}, steps: [{id: s, run: s}]}
      wide:
        runs-on: x
        needs: setup
        continue-on-error: ${{ matrix.n == 2 }}
        strategy: {fail-fast: true, matrix: "${{ fromJSON(needs.setup.outputs.m) }}"}
        steps: [{run: w, retry: 1}, {if: failure(), run: tidy}]
      join: {runs-on: x, needs: [setup, wide], steps: [{run: j}]}
      always: {runs-on: x, needs: join, if: always(), steps: [{run: al}]}
    """,
    """
    on: push
    stages:
      - {name: one, jobs: {x: {runs-on: x, timeout-minutes: 1, steps: [{run: x}]}}}
      - {name: two, if: failure(), jobs: {y: {runs-on: x, steps: [{run: y}]}}}
      - {name: three, jobs: {z: {runs-on: x, steps: [{run: z}]}}}
    finally:
      f: {runs-on: x, if: cancelled(), steps: [{run: f}]}
    """,
]
JOB_IDS = [
    "a",
    "b",
    "c",
    "m",
    "r",
    "cleanup",
    "report",
    "setup",
    "wide",
    "join",
    "always",
    "x",
    "y",
    "z",
    "f",
]


@cache
def plan(number: int) -> dict:
    return plan_of(PIPELINES[number])


scripts = st.dictionaries(
    st.sampled_from(JOB_IDS),
    st.builds(
        Script,
        fail=st.dictionaries(st.sampled_from([0, 1]), st.integers(0, 3), max_size=2),
        timeout=st.lists(st.sampled_from([0, 1]), max_size=1),
        duration=st.sampled_from([0.5, 1, 2, 90]),
        outputs=st.just({0: {"m": '{"n": [1, 2, 3]}'}}),
    ),
)
cancels = st.none() | st.sampled_from([0, 0.5, 1, 1.5, 3, 60])


@settings(max_examples=150, deadline=None)
@given(number=st.sampled_from(range(len(PIPELINES))), scripts=scripts, cancel_at=cancels)
def test_every_run_ends_with_everything_terminal(number, scripts, cancel_at):
    sim = simulate(plan(number), scripts, cancel_at=cancel_at)
    assert sim.state.status in TERMINAL
    assert all(stage.status in TERMINAL for stage in sim.state.stages)
    assert all(job.status in TERMINAL for job in sim.state.jobs.values())
    if sim.state.cancel_requested:
        assert sim.state.status == "canceled"
    assert all(count <= 2 for job_id, count in sim.peak_running.items() if job_id == "m")


@settings(max_examples=60, deadline=None)
@given(
    number=st.sampled_from(range(len(PIPELINES))), scripts=scripts, cancel_at=cancels, cut=st.integers(0, 50)
)
def test_applying_part_of_a_decision_then_deciding_again_reaches_the_same_state(
    number, scripts, cancel_at, cut
):
    sim = simulate(plan(number), scripts, cancel_at=cancel_at)
    for state, now, changes in sim.history:
        prefix = cut % (len(changes) + 1)
        partial = apply_changes(state, changes[:prefix])
        rest = decide_build(sim.plan, partial, now)
        assert apply_changes(partial, rest) == apply_changes(state, changes)
