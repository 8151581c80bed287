"""Table tests of the build decisions, run through the simulator: needs, if, status functions,
finally, fast-kill, fail-fast, max-parallel, continue-on-error, cancel, retry, timeouts and
deferred matrices. Each case gives the YAML, what the steps do, and the statuses at the end."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from .plans import plan_of
from .simulate import Script, simulate

RUN_OK = "steps: [{run: 'true'}]"


@dataclass
class Case:
    name: str
    yaml: str
    jobs: dict[str, str]
    build: str
    scripts: dict[str, Script] = field(default_factory=dict)
    cancel_at: float | None = None


CASES = [
    Case(
        "a chain of needs runs in order",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, {RUN_OK}}}
          b: {{runs-on: x, needs: a, {RUN_OK}}}
          c: {{runs-on: x, needs: [a, b], {RUN_OK}}}
        """,
        {"a": "succeeded", "b": "succeeded", "c": "succeeded"},
        "succeeded",
    ),
    Case(
        "a failed need skips its dependents unless their if says otherwise",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, {RUN_OK}}}
          b: {{runs-on: x, needs: a, {RUN_OK}}}
          after: {{runs-on: x, needs: b, {RUN_OK}}}
          report: {{runs-on: x, needs: b, if: failure(), {RUN_OK}}}
          tidy: {{runs-on: x, needs: b, if: always(), {RUN_OK}}}
          unless-canceled: {{runs-on: x, needs: b, if: ALWAYS_UNLESS_CANCELLED, {RUN_OK}}}
        """,
        {
            "a": "succeeded",
            "b": "failed",
            "after": "skipped",
            "report": "succeeded",
            "tidy": "succeeded",
            "unless-canceled": "succeeded",
        },
        "failed",
        {"b": Script(fail=[0])},
    ),
    Case(
        "failure() and success() look at every ancestor, not only the direct needs",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, {RUN_OK}}}
          b: {{runs-on: x, needs: a, if: always(), {RUN_OK}}}
          c-failure: {{runs-on: x, needs: b, if: failure(), {RUN_OK}}}
          c-success: {{runs-on: x, needs: b, {RUN_OK}}}
        """,
        {"a": "failed", "b": "succeeded", "c-failure": "succeeded", "c-success": "skipped"},
        "failed",
        {"a": Script(fail=[0])},
    ),
    Case(
        "a skipped need is not success: its dependent is skipped, the build still succeeds",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, if: "github.ref == 'refs/heads/dev'", {RUN_OK}}}
          b: {{runs-on: x, needs: a, {RUN_OK}}}
          c: {{runs-on: x, needs: a, if: always(), {RUN_OK}}}
          d: {{runs-on: x, {RUN_OK}}}
        """,
        {"a": "skipped", "b": "skipped", "c": "succeeded", "d": "succeeded"},
        "succeeded",
    ),
    Case(
        "a build whose every job is skipped is skipped",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, if: "ci.event == 'schedule'", {RUN_OK}}}
        """,
        {"a": "skipped"},
        "skipped",
    ),
    Case(
        "an if reads needs outputs, inputs and variables",
        """
        on: {push: {}, manual: {inputs: {region: {type: string, default: eu}}}}
        variables: {TARGET: prod}
        jobs:
          probe:
            runs-on: x
            outputs: {go: "${{ steps.p.outputs.go }}"}
            steps: [{id: p, run: probe}]
          deploy:
            runs-on: x
            needs: probe
            if: "needs.probe.outputs.go == 'yes' && variables.TARGET == 'prod' && inputs.region == 'eu'"
            steps: [{run: deploy}]
          hold: {runs-on: x, needs: probe, if: "needs.probe.outputs.go == 'no'", steps: [{run: hold}]}
        """,
        {"probe": "succeeded", "deploy": "succeeded", "hold": "skipped"},
        "succeeded",
        {"probe": Script(outputs={0: {"go": "yes"}})},
    ),
    Case(
        "a failed stage skips later stages but not finally; failure() runs there",
        f"""
        on: push
        stages:
          - {{name: one, jobs: {{a: {{runs-on: x, {RUN_OK}}}}}}}
          - {{name: two, jobs: {{b: {{runs-on: x, {RUN_OK}}}}}}}
          - {{name: three, if: failure(), jobs: {{rescue: {{runs-on: x, {RUN_OK}}}}}}}
        finally:
          cleanup: {{runs-on: x, if: ALWAYS, {RUN_OK}}}
          on-failure: {{runs-on: x, if: FAILURE, {RUN_OK}}}
          on-success: {{runs-on: x, {RUN_OK}}}
          canceled: {{runs-on: x, if: CANCELED, {RUN_OK}}}
        """,
        {
            "a": "failed",
            "b": "skipped",
            "rescue": "succeeded",
            "cleanup": "succeeded",
            "on-failure": "succeeded",
            "on-success": "skipped",
            "canceled": "skipped",
        },
        "failed",
        {"a": Script(fail=[0])},
    ),
    Case(
        "a stage whose if is false is skipped, and later stages run",
        f"""
        on: push
        stages:
          - {{name: nightly, if: "ci.event == 'schedule'", jobs: {{a: {{runs-on: x, {RUN_OK}}}}}}}
          - {{name: always, jobs: {{b: {{runs-on: x, {RUN_OK}}}}}}}
        finally:
          on-success: {{runs-on: x, if: SUCCESS, {RUN_OK}}}
        """,
        {"a": "skipped", "b": "succeeded", "on-success": "succeeded"},
        "succeeded",
    ),
    Case(
        "fast-kill: a failed job cancels its running and pending siblings",
        f"""
        on: push
        stages:
          - name: build
            fast-kill: true
            jobs:
              broken: {{runs-on: x, {RUN_OK}}}
              slow: {{runs-on: x, {RUN_OK}}}
              later: {{runs-on: x, needs: slow, if: always(), {RUN_OK}}}
          - {{name: next, jobs: {{n: {{runs-on: x, {RUN_OK}}}}}}}
        """,
        {"broken": "failed", "slow": "canceled", "later": "canceled", "n": "skipped"},
        "failed",
        {"broken": Script(fail=[0]), "slow": Script(duration=5)},
    ),
    Case(
        "without fast-kill a failed job leaves its siblings running",
        f"""
        on: push
        jobs:
          broken: {{runs-on: x, {RUN_OK}}}
          slow: {{runs-on: x, {RUN_OK}}}
        """,
        {"broken": "failed", "slow": "succeeded"},
        "failed",
        {"broken": Script(fail=[0]), "slow": Script(duration=5)},
    ),
    Case(
        "fail-fast (the default): a failed combination cancels its siblings",
        f"""
        on: push
        jobs:
          test: {{runs-on: x, strategy: {{matrix: {{n: [1, 2, 3]}}}}, {RUN_OK}}}
          other: {{runs-on: x, {RUN_OK}}}
        """,
        {"test.0": "failed", "test.1": "canceled", "test.2": "canceled", "other": "succeeded"},
        "failed",
        {
            "test.0": Script(fail=[0]),
            "test.1": Script(duration=5),
            "test.2": Script(duration=5),
            "other": Script(duration=5),
        },
    ),
    Case(
        "fail-fast: false lets the other combinations finish; needs sees the matrix as failed",
        f"""
        on: push
        jobs:
          test: {{runs-on: x, strategy: {{fail-fast: false, matrix: {{n: [1, 2, 3]}}}}, {RUN_OK}}}
          report: {{runs-on: x, needs: test, if: failure(), {RUN_OK}}}
          publish: {{runs-on: x, needs: test, {RUN_OK}}}
        """,
        {
            "test.0": "failed",
            "test.1": "succeeded",
            "test.2": "succeeded",
            "report": "succeeded",
            "publish": "skipped",
        },
        "failed",
        {"test.0": Script(fail=[0]), "test.1": Script(duration=5), "test.2": Script(duration=5)},
    ),
    Case(
        "continue-on-error on a job: it shows failed, the build and its dependents see success",
        f"""
        on: push
        jobs:
          flaky: {{runs-on: x, continue-on-error: true, {RUN_OK}}}
          next: {{runs-on: x, needs: flaky, {RUN_OK}}}
          report: {{runs-on: x, needs: flaky, if: failure(), {RUN_OK}}}
        """,
        {"flaky": "failed", "next": "succeeded", "report": "skipped"},
        "succeeded",
        {"flaky": Script(fail=[0])},
    ),
    Case(
        "continue-on-error from the matrix: only the experimental combination is tolerated",
        """
        on: push
        jobs:
          test:
            runs-on: x
            continue-on-error: ${{ matrix.experimental }}
            strategy:
              matrix:
                py: ["3.11", "3.12"]
                experimental: [false]
                include: [{py: "3.13", experimental: true}]
            steps: [{run: 'true'}]
        """,
        {"test.0": "succeeded", "test.1": "succeeded", "test.2": "failed"},
        "succeeded",
        {"test.0": Script(duration=5), "test.1": Script(duration=5), "test.2": Script(fail=[0])},
    ),
    Case(
        "continue-on-error from the matrix does not cover the other combinations",
        """
        on: push
        jobs:
          test:
            runs-on: x
            continue-on-error: ${{ matrix.experimental }}
            strategy:
              fail-fast: false
              matrix:
                py: ["3.11", "3.12"]
                experimental: [false]
                include: [{py: "3.13", experimental: true}]
            steps: [{run: 'true'}]
        """,
        {"test.0": "succeeded", "test.1": "failed", "test.2": "succeeded"},
        "failed",
        {"test.1": Script(fail=[0])},
    ),
    Case(
        "cancel: running jobs are stopped, pending ones canceled, always() jobs and finally still run",
        f"""
        on: push
        stages:
          - name: build
            jobs:
              long: {{runs-on: x, {RUN_OK}}}
              after: {{runs-on: x, needs: long, {RUN_OK}}}
              tidy: {{runs-on: x, needs: long, if: always(), {RUN_OK}}}
              on-cancel: {{runs-on: x, needs: long, if: cancelled(), {RUN_OK}}}
          - {{name: deploy, jobs: {{ship: {{runs-on: x, {RUN_OK}}}}}}}
        finally:
          cleanup: {{runs-on: x, if: always(), {RUN_OK}}}
          on-failure: {{runs-on: x, if: failure(), {RUN_OK}}}
        """,
        {
            "long": "canceled",
            "after": "canceled",
            "tidy": "succeeded",
            "on-cancel": "succeeded",
            "ship": "canceled",
            "cleanup": "succeeded",
            "on-failure": "canceled",
        },
        "canceled",
        {"long": Script(duration=10)},
        cancel_at=2,
    ),
    Case(
        "after cancel, a stage whose if says cancelled() runs; its jobs still need their own if",
        f"""
        on: push
        stages:
          - {{name: one, jobs: {{long: {{runs-on: x, {RUN_OK}}}}}}}
          - name: rescue
            if: cancelled()
            jobs: {{r: {{runs-on: x, if: always(), {RUN_OK}}}, n: {{runs-on: x, {RUN_OK}}}}}
          - {{name: three, jobs: {{t: {{runs-on: x, {RUN_OK}}}}}}}
        """,
        {"long": "canceled", "r": "succeeded", "n": "canceled", "t": "canceled"},
        "canceled",
        {"long": Script(duration=10)},
        cancel_at=1,
    ),
    Case(
        "cancel leaves a running always() job alone",
        f"""
        on: push
        jobs:
          keep: {{runs-on: x, if: always(), {RUN_OK}}}
          stop: {{runs-on: x, {RUN_OK}}}
        """,
        {"keep": "succeeded", "stop": "canceled"},
        "canceled",
        {"keep": Script(duration=10), "stop": Script(duration=10)},
        cancel_at=1,
    ),
    Case(
        "a job past its timeout-minutes is timed out and the build with it",
        f"""
        on: push
        jobs:
          slow: {{runs-on: x, timeout-minutes: 1, {RUN_OK}}}
          after: {{runs-on: x, needs: slow, {RUN_OK}}}
          report: {{runs-on: x, needs: slow, if: failure(), {RUN_OK}}}
        """,
        {"slow": "timed_out", "after": "skipped", "report": "succeeded"},
        "timed_out",
        {"slow": Script(duration=600)},
    ),
    Case(
        "a step that times out times the job out",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, {RUN_OK}}}
        """,
        {"a": "timed_out"},
        "timed_out",
        {"a": Script(timeout=[0])},
    ),
    Case(
        "a deferred matrix is expanded from the outputs it needs",
        """
        on: push
        jobs:
          setup:
            runs-on: x
            outputs: {m: "${{ steps.s.outputs.m }}"}
            steps: [{id: s, run: emit}]
          test:
            runs-on: x
            needs: setup
            strategy: {matrix: "${{ fromJSON(needs.setup.outputs.m) }}"}
            steps: [{run: "echo ${{ matrix.py }}"}]
          after: {runs-on: x, needs: test, steps: [{run: 'true'}]}
        """,
        {"setup": "succeeded", "test.0": "succeeded", "test.1": "succeeded", "after": "succeeded"},
        "succeeded",
        {"setup": Script(outputs={0: {"m": '{"py": ["3.11", "3.12"]}'}})},
    ),
    Case(
        "a deferred matrix that cannot be read fails its job",
        """
        on: push
        jobs:
          setup: {runs-on: x, steps: [{run: 'true'}]}
          test:
            runs-on: x
            needs: setup
            strategy: {matrix: "${{ fromJSON(needs.setup.outputs.m) }}"}
            steps: [{run: 'true'}]
        """,
        {"setup": "succeeded", "test": "failed"},
        "failed",
    ),
    Case(
        "a job if that cannot be evaluated fails the job, not the engine",
        f"""
        on: push
        jobs:
          a: {{runs-on: x, if: "fromJSON('not json')", {RUN_OK}}}
          b: {{runs-on: x, needs: a, if: always(), {RUN_OK}}}
        """,
        {"a": "failed", "b": "succeeded"},
        "failed",
    ),
    Case(
        "a stage if that cannot be evaluated fails the stage and skips its jobs",
        f"""
        on: push
        stages:
          - {{name: one, if: "fromJSON('{{')", jobs: {{a: {{runs-on: x, {RUN_OK}}}}}}}
        finally:
          report: {{runs-on: x, if: failure(), {RUN_OK}}}
        """,
        {"a": "skipped", "report": "succeeded"},
        "failed",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_build_ends_with_the_expected_statuses(case):
    sim = simulate(plan_of(case.yaml), case.scripts, cancel_at=case.cancel_at)
    assert {key: job.status for key, job in sim.state.jobs.items()} == case.jobs
    assert sim.state.status == case.build
