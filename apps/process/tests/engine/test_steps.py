"""Step decisions: `if` with the job's running status, continue-on-error, retry, cancel,
rendering (and its errors), and the job's status from its steps."""

from __future__ import annotations

import pytest

from apps.process.engine import (
    FailStep,
    JobDone,
    PlanIndex,
    RunStep,
    SkipStep,
    StepState,
    decide_next_step,
    initial_build_state,
    job_contexts,
    lookahead_steps,
)

from .plans import plan_of
from .simulate import PUSH_TO_MAIN, RUNNER

STEPS = """
on: push
env: {GLOBAL: "1", SHARED: pipeline}
jobs:
  j:
    runs-on: x
    timeout-minutes: 30
    continue-on-error: false
    env: {SHARED: job, FROM_GLOBAL: "${{ env.GLOBAL }}-job"}
    defaults: {run: {working-directory: src}}
    steps:
      - {id: first, run: "echo ${{ github.sha }}", timeout-minutes: 5}
      - {id: tolerant, run: flaky, continue-on-error: true}
      - {run: plain}
      - {if: failure(), run: on-failure}
      - {if: always(), run: always, shell: python}
      - {if: cancelled(), run: on-cancel}
      - {run: retried, retry: 2}
"""


def decide(steps, *, cancel=False, yaml=STEPS, secrets=None):
    plan = plan_of(yaml)
    build = initial_build_state(plan, PUSH_TO_MAIN)
    job = next(iter(build.jobs.values()))
    contexts = job_contexts(
        plan=plan, build=build, job=job, steps=steps, runner=RUNNER, secrets=secrets or {}
    )
    return decide_next_step(plan, PlanIndex(plan).plan_job(job), steps, contexts, cancel)


def done(*statuses, attempts=None):
    return [StepState(index, status, (attempts or {}).get(index, 1)) for index, status in enumerate(statuses)]


def test_the_first_step_is_rendered_for_the_agent():
    decision = decide([])
    assert isinstance(decision, RunStep)
    assert (decision.index, decision.attempt) == (0, 1)
    step = decision.rendered
    assert step["run"] == "echo 0123456789abcdef"
    assert step["kind"] == "run"
    assert step["shell"] == "bash"
    assert step["working_directory"] == "src"
    assert step["timeout_seconds"] == 300
    assert step["checkout"] is None
    assert step["env"]["SHARED"] == "job"
    assert step["env"]["FROM_GLOBAL"] == "1-job"
    assert step["env"]["CI"] == "true"


def test_a_step_without_timeout_gets_the_jobs():
    decision = decide(done("succeeded"))
    assert decision.rendered["timeout_seconds"] == 1800


@pytest.mark.parametrize(
    "steps, expected",
    [
        (done("succeeded", "failed"), RunStep),
        (done("succeeded", "failed", "succeeded"), SkipStep),
        (done("failed"), SkipStep),
        (done("failed", "skipped", "skipped"), RunStep),
        (done("failed", "skipped", "skipped", "succeeded"), RunStep),
        (done("succeeded", "succeeded", "succeeded", "skipped", "succeeded"), SkipStep),
        (done("succeeded", "succeeded", "succeeded", "skipped", "succeeded", "skipped"), RunStep),
    ],
)
def test_each_step_if_sees_the_jobs_running_status(steps, expected):
    assert isinstance(decide(steps), expected)
    assert decide(steps).index == len(steps)


def test_a_failure_under_continue_on_error_does_not_count():
    assert isinstance(decide(done("succeeded", "failed")), RunStep)
    assert decide(done("succeeded", "failed", "succeeded")) == SkipStep(3, "condition is false: failure()")


def test_cancel_runs_only_always_and_cancelled_steps_and_ends_canceled():
    assert isinstance(decide([], cancel=True), SkipStep)
    steps = done("skipped", "skipped", "skipped", "skipped")
    assert decide(steps, cancel=True).rendered["run"] == "always"
    assert decide([*steps, StepState(4, "succeeded")], cancel=True).rendered["run"] == "on-cancel"
    finished = done("canceled", "skipped", "skipped", "skipped", "succeeded", "succeeded", "skipped")
    assert decide(finished, cancel=True) == JobDone("canceled", "canceled")


def test_a_running_step_is_answered_again():
    decision = decide([StepState(0, "running", 1)])
    assert (decision.index, decision.attempt) == (0, 1)


def test_a_failed_step_with_retries_left_runs_again_then_the_job_fails():
    before = done("succeeded", "succeeded", "succeeded", "skipped", "succeeded", "skipped")
    again = decide([*before, StepState(6, "failed", 1)])
    assert (again.index, again.attempt, again.rendered["attempt"]) == (6, 2, 2)
    assert decide([*before, StepState(6, "timed_out", 2)]).attempt == 3
    last = decide([*before, StepState(6, "failed", 3, reason="exit code 1")])
    assert last == JobDone("failed", "step 'Run retried' failed: exit code 1")


def test_no_retry_once_the_job_is_canceled():
    before = done("succeeded", "succeeded", "succeeded", "skipped", "succeeded", "skipped")
    assert decide([*before, StepState(6, "failed", 1)], cancel=True) == JobDone("canceled", "canceled")


@pytest.mark.parametrize(
    "statuses, expected",
    [
        (("succeeded", "failed", "succeeded", "skipped", "succeeded", "skipped", "succeeded"), "succeeded"),
        (("failed", "skipped", "skipped", "succeeded", "succeeded", "skipped", "skipped"), "failed"),
        (("timed_out", "skipped", "skipped", "succeeded", "succeeded", "skipped", "skipped"), "timed_out"),
        (("succeeded", "canceled", "skipped", "skipped", "succeeded", "skipped", "skipped"), "canceled"),
        (
            ("succeeded", "timed_out", "succeeded", "skipped", "succeeded", "skipped", "succeeded"),
            "succeeded",
        ),
    ],
)
def test_the_job_status_comes_from_its_steps(statuses, expected):
    decision = decide(done(*statuses, attempts={6: 3}))
    assert isinstance(decision, JobDone)
    assert decision.status == expected


def test_a_template_that_cannot_be_rendered_fails_the_step():
    yaml = """
    on: push
    jobs:
      j: {runs-on: x, steps: [{run: "echo ${{ fromJSON('nope') }}"}, {if: "fromJSON('{')", run: x}, {run: y}]}
    """
    first = decide([], yaml=yaml)
    assert isinstance(first, FailStep) and first.index == 0 and first.attempt == 1
    assert decide([StepState(0, "failed", reason=first.reason)], yaml=yaml) == SkipStep(
        1, "an earlier step failed"
    )
    second = decide([StepState(0, "succeeded")], yaml=yaml)
    assert isinstance(second, FailStep) and second.reason.startswith("if: ")


def test_continue_on_error_may_be_an_expression():
    yaml = """
    on: push
    variables: {TOLERATE: "true"}
    jobs:
      j: {runs-on: x, steps: [{run: a, continue-on-error: "${{ variables.TOLERATE == 'true' }}"}, {run: b}]}
    """
    assert decide([StepState(0, "failed")], yaml=yaml).rendered["run"] == "b"
    assert decide([StepState(0, "failed"), StepState(1, "succeeded")], yaml=yaml) == JobDone("succeeded", "")


def test_exported_env_and_path_reach_later_steps_and_secrets_are_masked():
    yaml = """
    on: push
    env: {A: pipeline}
    jobs:
      j:
        runs-on: x
        env: {B: job}
        steps:
          - {run: export}
          - {run: more}
          - {run: "echo $A $B", env: {B: step, TOKEN: "${{ secrets.TOKEN }}", DEVOPS_SHA: forged}}
    """
    steps = [
        StepState(0, "succeeded", env={"A": "exported", "B": "exported"}, path=("/one",)),
        StepState(1, "succeeded", path=("/two",)),
    ]
    step = decide(steps, yaml=yaml, secrets={"TOKEN": "s3cret"}).rendered
    assert step["env"]["A"] == "exported"
    assert step["env"]["B"] == "step"
    assert step["env"]["TOKEN"] == "s3cret"
    assert step["env"]["DEVOPS_SHA"] == "0123456789abcdef"
    assert step["path"] == ["/two", "/one"]
    assert step["mask"] == ["s3cret"]


def test_a_checkout_step_says_what_to_check_out():
    yaml = """
    on: push
    jobs:
      j: {runs-on: x, steps: [{checkout: self}, {uses: actions/checkout@v4, with: {fetch-depth: 0}}]}
    """
    first = decide([], yaml=yaml).rendered
    assert first["kind"] == "checkout"
    assert first["checkout"]["ref"] == "refs/heads/main"
    assert first["checkout"]["sha"] == "0123456789abcdef"
    second = decide([StepState(0, "succeeded")], yaml=yaml).rendered
    assert second["kind"] == "checkout"
    assert second["checkout"]["with"] == {"fetch-depth": "0"}


LOOKAHEAD = """
on: push
env: {GLOBAL: "1"}
jobs:
  j:
    runs-on: x
    env: {FROM_GLOBAL: "${{ env.GLOBAL }}"}
    steps:
      - {run: one}
      - {run: two, env: {A: b}}
      - {run: three, retry: 1, continue-on-error: true}
      - {run: "echo ${{ github.sha }}"}
      - {run: five}
      - {if: always(), run: six}
      - {checkout: self}
      - {run: eight}
"""


def lookahead(after, steps=(), yaml=LOOKAHEAD, limit=50):
    plan = plan_of(yaml)
    build = initial_build_state(plan, PUSH_TO_MAIN)
    job = next(iter(build.jobs.values()))
    contexts = job_contexts(plan=plan, build=build, job=job, steps=list(steps), runner=RUNNER, secrets={})
    plan_job = PlanIndex(plan).plan_job(job)
    return [step["index"] for step in lookahead_steps(plan, plan_job, after, list(steps), contexts, limit)]


@pytest.mark.parametrize(
    "after, started, expected",
    [
        (0, [], [1, 2]),  # stops before the step with an expression
        (3, [], [4]),  # stops before a step with `if`
        (5, [], []),  # a checkout step is never handed out ahead
        (6, [], [7]),
        (7, [], []),
        (0, [StepState(1, "failed", 1)], []),  # a step that has started is decided again
    ],
)
def test_lookahead_offers_the_plain_run_steps_that_follow(after, started, expected):
    assert lookahead(after, [StepState(0, "running", 1), *started]) == expected


def test_lookahead_is_capped_and_renders_like_the_next_decision():
    assert lookahead(0, limit=1) == [1]
    plan = plan_of(LOOKAHEAD)
    build = initial_build_state(plan, PUSH_TO_MAIN)
    job = next(iter(build.jobs.values()))
    steps = [StepState(0, "succeeded", 1)]
    contexts = job_contexts(plan=plan, build=build, job=job, steps=steps, runner=RUNNER, secrets={})
    ahead = lookahead_steps(plan, PlanIndex(plan).plan_job(job), 0, [StepState(0, "running", 1)], contexts)
    assert ahead[0] == decide_next_step(plan, PlanIndex(plan).plan_job(job), steps, contexts, False).rendered


def test_no_lookahead_when_the_job_env_reads_the_steps_context():
    yaml = LOOKAHEAD.replace('"${{ env.GLOBAL }}"', '"${{ steps.x.outputs.y }}"')
    assert lookahead(0, yaml=yaml) == []
