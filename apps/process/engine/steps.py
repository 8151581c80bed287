"""Step decisions: what a running job does next, given its steps so far.

`decide_next_step(plan, plan_job, steps, contexts, job_cancel_requested)` answers one of:
- `RunStep(index, attempt, rendered)`: send `rendered` to the agent (the `step` object of
  docs/agent-protocol.md, plus `path`, the PATH entries to prepend, most recent first);
- `SkipStep(index, reason)`: the step's `if` is false; record it `skipped` and ask again;
- `FailStep(index, attempt, reason)`: its `if` or a template could not be evaluated; record
  it `failed` with `reason` and ask again;
- `JobDone(status, reason)`: no step is left; the job ends with `status`.

`steps` holds the latest attempt of each step that has started (a missing index has not);
`contexts` come from `contexts.job_contexts` over the same steps. A step that is still `running`
is answered again (a retried request). Step `if`: `success()` is true while no earlier step
failed (a failure under continue-on-error does not count) and the job is not being canceled;
`failure()` when one did; `cancelled()` once the job's cancel was requested. A failed or
timed-out step with `retry` attempts left runs again with `attempt + 1` (not after cancel).
The job ends canceled when its cancel was requested or a step was canceled, else `failed`
(`timed_out` if that first failing step timed out) when a step failed without
continue-on-error, else `succeeded`.

`first_step_offered(plan, plan_job)` says whether the job's first step may be handed out with
its claim, before the agent has told which runner (workspace, temporary directory) the job got: a
plain step (below) under pipeline and job env without any expression renders the same whatever
the runner.

`lookahead_steps(...)` lists the steps an agent may run right after the one it is handed without
asking again (the `then` list of `steps/next`): the next pending steps, up to a limit, that are
plain `run` steps with no expression anywhere and no `if`, so that while each earlier step
succeeds without exporting env or PATH, asking again would have rendered them just the same.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from apps.process.language.expressions import (
    ExpressionError,
    StatusFunctions,
    evaluate_condition,
    render_template,
    render_value,
    to_string,
)

from .contexts import exported_env, exported_path, step_conclusion, step_environment
from .states import CANCELED, FAILED, FAILURES, RUNNING, SUCCEEDED, TERMINAL, TIMED_OUT, StepState

DEFAULT_JOB_TIMEOUT_MINUTES = 360
LOOKAHEAD_LIMIT = 50
TEMPLATE_START = "${{"


@dataclass(frozen=True)
class RunStep:
    index: int
    attempt: int
    rendered: dict


@dataclass(frozen=True)
class SkipStep:
    index: int
    reason: str = ""


@dataclass(frozen=True)
class FailStep:
    index: int
    attempt: int
    reason: str


@dataclass(frozen=True)
class JobDone:
    status: str
    reason: str = ""


StepDecision = RunStep | SkipStep | FailStep | JobDone


def decide_next_step(
    plan: dict, plan_job: dict, steps: list[StepState], contexts: dict, job_cancel_requested: bool
) -> StepDecision:
    """The next thing the agent running `plan_job` should do (see the module docstring)."""
    by_index = {state.index: state for state in steps}
    failed_before = False
    for plan_step in plan_job.get("steps", []):
        state = by_index.get(plan_step["index"])
        if state is not None and state.status == RUNNING:
            return run_or_fail(plan, plan_job, plan_step, state.attempt, steps, contexts, failed_before,
                               job_cancel_requested)
        if state is not None and state.status in TERMINAL:
            if should_retry(plan_step, state, job_cancel_requested):
                return run_or_fail(plan, plan_job, plan_step, state.attempt + 1, steps, contexts,
                                   failed_before, job_cancel_requested)
            failed_before = failed_before or step_conclusion(plan_step, state, contexts) in FAILURES
            continue
        status = StatusFunctions(
            success=not failed_before and not job_cancel_requested,
            failure=failed_before,
            cancelled=job_cancel_requested,
        )
        try:
            if not evaluate_condition(plan_step.get("if"), contexts, status):
                return SkipStep(plan_step["index"], reason=skip_reason(plan_step, status))
        except ExpressionError as error:
            return FailStep(plan_step["index"], 1, f"if: {error}")
        return run_or_fail(plan, plan_job, plan_step, 1, steps, contexts, failed_before, job_cancel_requested)
    return job_done(plan_job, steps, contexts, job_cancel_requested)


def lookahead_steps(
    plan: dict,
    plan_job: dict,
    after: int,
    steps: list[StepState],
    contexts: dict,
    limit: int = LOOKAHEAD_LIMIT,
) -> list[dict]:
    """Rendered steps that may follow step `after` at once (see the module docstring)."""
    if mentions_steps(plan.get("env")) or mentions_steps(plan_job.get("env")):
        return []
    started = {state.index for state in steps}
    success = StatusFunctions(success=True, failure=False, cancelled=False)
    ahead: list[dict] = []
    for plan_step in plan_job.get("steps", []):
        if plan_step["index"] <= after:
            continue
        if len(ahead) >= limit or plan_step["index"] in started or not is_plain_step(plan_step):
            break
        rendered = render_step(plan, plan_job, plan_step, steps, contexts, success)
        ahead.append({**rendered, **handout(plan_job, plan_step, 1)})
    return ahead


def first_step_offered(plan: dict, plan_job: dict) -> bool:
    """Whether the first step renders the same whatever the runner (see the module docstring)."""
    steps = plan_job.get("steps") or []
    plain_env = TEMPLATE_START not in json.dumps([plan.get("env"), plan_job.get("env")])
    return bool(steps) and plain_env and is_plain_step(steps[0])


def is_plain_step(plan_step: dict) -> bool:
    """A `run` step whose rendering does not depend on the steps before it."""
    kind = plan_step.get("kind") or ("checkout" if plan_step.get("checkout") else "run")
    return kind == "run" and plan_step.get("if") is None and TEMPLATE_START not in json.dumps(plan_step)


def mentions_steps(env: dict | None) -> bool:
    text = json.dumps(env or {})
    return TEMPLATE_START in text and "steps" in text


def should_retry(plan_step: dict, state: StepState, job_cancel_requested: bool) -> bool:
    return (
        state.status in FAILURES
        and not job_cancel_requested
        and state.attempt <= int(plan_step.get("retry") or 0)
    )


def skip_reason(plan_step: dict, status: StatusFunctions) -> str:
    if status.cancelled:
        return "the job was canceled"
    if status.failure:
        return "an earlier step failed"
    return f"condition is false: {plan_step.get('if')}"


def run_or_fail(
    plan: dict,
    plan_job: dict,
    plan_step: dict,
    attempt: int,
    steps: list[StepState],
    contexts: dict,
    failed_before: bool,
    job_cancel_requested: bool,
) -> RunStep | FailStep:
    status = StatusFunctions(
        success=not failed_before and not job_cancel_requested,
        failure=failed_before,
        cancelled=job_cancel_requested,
    )
    try:
        rendered = render_step(plan, plan_job, plan_step, steps, contexts, status)
    except ExpressionError as error:
        return FailStep(plan_step["index"], attempt, str(error))
    return RunStep(plan_step["index"], attempt, {**rendered, **handout(plan_job, plan_step, attempt)})


def handout(plan_job: dict, plan_step: dict, attempt: int) -> dict:
    """`attempt`, and `last` when nothing can follow this attempt: the job's last step without a
    retry left (the agent then reports it with `finish` instead of asking `steps/next` again)."""
    last = plan_step["index"] == plan_job["steps"][-1]["index"] and attempt > int(plan_step.get("retry") or 0)
    return {"attempt": attempt, "last": last}


def render_step(
    plan: dict,
    plan_job: dict,
    plan_step: dict,
    steps: list[StepState],
    contexts: dict,
    status: StatusFunctions,
) -> dict:
    """The `step` object sent to the agent. Raises ExpressionError when a template fails."""
    kind = plan_step.get("kind") or ("checkout" if plan_step.get("checkout") else "run")
    env = step_environment(
        plan=plan, plan_job=plan_job, plan_step=plan_step, contexts=contexts, exported=exported_env(steps)
    )
    step_contexts = {**contexts, "env": {**contexts.get("env", {}), **env}}
    return {
        "index": plan_step["index"],
        "name": render_text(plan_step.get("name") or default_name(plan_step, kind), step_contexts, status),
        "kind": kind,
        "run": render_text(plan_step.get("run"), step_contexts, status),
        "shell": render_text(plan_step.get("shell") or "bash", step_contexts, status),
        "working_directory": render_text(plan_step.get("working_directory"), step_contexts, status),
        "env": env,
        "path": exported_path(steps),
        "timeout_seconds": timeout_seconds(plan_job, plan_step),
        "checkout": render_checkout(plan_step, step_contexts, status) if kind == "checkout" else None,
        "mask": secret_values(contexts),
    }


def render_text(template: str | None, contexts: dict, status: StatusFunctions) -> str | None:
    if template is None:
        return None
    return render_template(template if isinstance(template, str) else to_string(template), contexts, status)


def render_checkout(plan_step: dict, contexts: dict, status: StatusFunctions) -> dict:
    """What to check out; the persistence side adds the repository URL and credentials."""
    ci = contexts.get("ci", {})
    given = plan_step.get("with") or {}
    return {
        "repository": plan_step.get("checkout") or "self",
        "ref": ci.get("ref"),
        "sha": ci.get("sha"),
        "with": {name: render_value(value, contexts, status) for name, value in given.items()},
    }


def default_name(plan_step: dict, kind: str) -> str:
    if kind == "checkout":
        return "Checkout"
    first_line = (plan_step.get("run") or "").strip().splitlines()
    return f"Run {first_line[0]}" if first_line else f"Step {plan_step['index'] + 1}"


def timeout_seconds(plan_job: dict, plan_step: dict) -> int:
    minutes = plan_step.get("timeout_minutes") or plan_job.get("timeout_minutes")
    minutes = minutes or DEFAULT_JOB_TIMEOUT_MINUTES
    return int(float(minutes) * 60)


def secret_values(contexts: dict) -> list[str]:
    values = list(contexts.get("secrets", {}).values())
    # a multi-part credential (an object) is masked field by field
    values += [item for value in values if isinstance(value, dict) for item in value.values()]
    values = [value for value in values if value not in (None, "") and not isinstance(value, dict)]
    return sorted({to_string(value) for value in values})


def job_done(plan_job: dict, steps: list[StepState], contexts: dict, job_cancel_requested: bool) -> JobDone:
    status, reason = job_status_from_steps(plan_job, steps, contexts, job_cancel_requested)
    return JobDone(status, reason)


def job_status_from_steps(
    plan_job: dict, steps: list[StepState], contexts: dict, job_cancel_requested: bool
) -> tuple[str, str]:
    """(status, reason) of a job whose steps are all done (see the module docstring)."""
    if job_cancel_requested:
        return CANCELED, "canceled"
    plan_steps = {plan_step["index"]: plan_step for plan_step in plan_job.get("steps", [])}
    ordered = sorted(steps, key=lambda state: state.index)
    if any(state.status == CANCELED for state in ordered):
        return CANCELED, "a step was canceled"
    for state in ordered:
        plan_step = plan_steps.get(state.index, {})
        if state.status in FAILURES and step_conclusion(plan_step, state, contexts) in FAILURES:
            label = repr(plan_step.get("name") or plan_step.get("id") or f"#{state.index + 1}")
            detail = f": {state.reason}" if state.reason else ""
            if state.status == TIMED_OUT:
                return TIMED_OUT, f"step {label} timed out{detail}"
            return FAILED, f"step {label} failed{detail}"
    return SUCCEEDED, ""
