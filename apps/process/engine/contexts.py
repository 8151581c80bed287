"""The expression contexts a job sees, and the environment its steps get.

- `BuildState.static` is `apps.process.language.static_contexts(...)` of the trigger: `ci`,
  `github`, `inputs`, `variables`, `vars` (the same facts the compiler rendered names with).
  `variables` and `inputs` start from the Plan's `variables` and `input_values`; the static
  ones win.
- `base_contexts(index, build, job)`: what a job's `if` and deferred matrix see: `ci`,
  `github`, `inputs`, `variables`/`vars`, `matrix`, `strategy`, `needs`, `jobs` (earlier
  stages), `env` (pipeline + job env). A job's `continue-on-error` expression sees only the
  trigger's facts, `matrix` and `strategy` (`tolerance_contexts`).
- `job_contexts(...)`: everything a step sees: the base contexts plus `runner`, `secrets`,
  `steps`, `job` and the env that earlier steps exported.
- `job_outputs(plan_job, contexts)` renders a job's `outputs:` once its steps are done.
- `step_environment(...)` is the env dict sent to the agent for one step.

`github` carries the same facts as `ci` under GitHub Actions' names, plus `job`. For a need
that is a matrix, `needs.<id>.outputs` merges every combination's outputs (later ones win)
and `result` is the worst combination (`failure` if any failed). A job failed under
continue-on-error has the result `success`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from typing import Any

from apps.process.language.expressions import (
    ExpressionError,
    StatusFunctions,
    evaluate_condition,
    render_template,
    to_string,
)

from .results import effective_status, result_word, worst_status
from .states import FAILURES, TERMINAL, BuildState, JobState, PlanIndex, StepState, group_jobs

NOT_A_CONDITION = StatusFunctions(success=True, failure=False, cancelled=False)


class Lazy(Mapping):
    """A context computed on first use: most expressions never read `jobs`, which is large."""

    def __init__(self, compute: Callable[[], dict]):
        self.compute = compute
        self.value: dict | None = None

    def resolved(self) -> dict:
        if self.value is None:
            self.value = self.compute()
        return self.value

    def __getitem__(self, key: str) -> Any:
        return self.resolved()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.resolved())

    def __len__(self) -> int:
        return len(self.resolved())


class LazyList(Sequence):
    """`Lazy` for a list (the quality rules: read only at a stage's control points)."""

    def __init__(self, compute: Callable[[], list]):
        self.compute = compute
        self.value: list | None = None

    def resolved(self) -> list:
        if self.value is None:
            self.value = self.compute()
        return self.value

    def __getitem__(self, index):
        return self.resolved()[index]

    def __len__(self) -> int:
        return len(self.resolved())


def github_context(static: dict, *, job_id: str, workspace: str | None = None) -> dict:
    """The trigger's `github` facts with the job (and the workspace once an agent has one)."""
    github = {**static.get("github", {}), "job": job_id}
    if workspace is not None:
        github["workspace"] = workspace
    return github


def base_contexts(
    index: PlanIndex,
    build: BuildState,
    job: JobState,
    groups: dict | None = None,
    jobs: Mapping | None = None,
) -> dict:
    """The contexts of a job before any of its steps: for its `if` and deferred matrix.
    `groups` (`group_jobs(build, index)`) and `jobs` (`jobs_context` of the job's stage) may be
    given when the caller has them already."""
    plan_job = index.plan_job(job)
    stage = index.stage_of(job)
    groups = group_jobs(build, index) if groups is None else groups
    contexts = {
        **trigger_facts(index.plan, build.static, job.job_id),
        "matrix": dict(plan_job.get("matrix") or {}),
        "strategy": strategy_context(plan_job, groups.get((stage, job.job_id), [job]), job),
        "needs": needs_context(index, build, groups, plan_job, stage),
        "jobs": Lazy(partial(jobs_context, index, build, groups, stage)) if jobs is None else jobs,
    }
    contexts["env"] = lenient_env(index.plan, plan_job, contexts)
    return contexts


def job_contexts(
    *,
    plan: dict,
    build: BuildState,
    job: JobState,
    steps: list[StepState],
    runner: dict,
    secrets: dict,
) -> dict:
    """Every context a step of `job` sees, given the job's step states so far."""
    index = PlanIndex(plan)
    plan_job = index.plan_job(job)
    contexts = base_contexts(index, build, job)
    workspace = runner.get("workspace", "")
    contexts["ci"]["workspace"] = workspace
    contexts["github"] = github_context(build.static, job_id=job.job_id, workspace=workspace)
    contexts["runner"] = dict(runner)
    contexts["secrets"] = dict(secrets)
    contexts["env"].update(exported_env(steps))
    contexts["steps"] = steps_context(plan_job, steps, contexts)
    contexts["job"] = {"status": job_status_word(plan_job, steps, contexts, job.cancel_requested)}
    return contexts


def strategy_context(plan_job: dict, combinations: list[JobState], job: JobState) -> dict:
    strategy = plan_job.get("strategy") or {}
    keys = [each.key for each in combinations]
    return {
        "fail-fast": strategy.get("fail_fast", True),
        "max-parallel": strategy.get("max_parallel") or len(keys),
        "job-index": keys.index(job.key) if job.key in keys else 0,
        "job-total": len(keys),
    }


def needs_context(index: PlanIndex, build: BuildState, groups: dict, plan_job: dict, stage: int) -> dict:
    return {
        need: job_summary(index, build, groups.get((stage, need), []))
        for need in plan_job.get("needs") or []
    }


def jobs_context(index: PlanIndex, build: BuildState, groups: dict, stage: int) -> dict:
    """`jobs.<id>` for every job of the stages before `stage`."""
    summaries = {}
    for (job_stage, job_id), combinations in groups.items():
        if job_stage < stage:
            summary = job_summary(index, build, combinations)
            summary["steps"] = merged_step_outputs(combinations)
            summaries[job_id] = summary
    return summaries


def job_summary(index: PlanIndex, build: BuildState, combinations: list[JobState]) -> dict:
    """`{"outputs", "result"}` of a job over all its combinations."""
    outputs: dict[str, Any] = {}
    for each in combinations:
        outputs.update(each.outputs)
    statuses = [job_effective_status(index, build, each) for each in combinations]
    finished = statuses and all(status in TERMINAL for status in statuses)
    return {"outputs": outputs, "result": result_word(worst_status(statuses)) if finished else None}


def merged_step_outputs(combinations: list[JobState]) -> dict:
    steps: dict[str, dict] = {}
    for each in combinations:
        for step_id, outputs in each.step_outputs.items():
            steps.setdefault(step_id, {"outputs": {}})["outputs"].update(outputs)
    return steps


def job_effective_status(index: PlanIndex, build: BuildState, job: JobState) -> str:
    """A job's status as its dependents and its stage see it (continue-on-error applied)."""
    if job.status not in FAILURES:
        return job.status
    tolerated = index.plan_job(job).get("continue_on_error", False)
    if isinstance(tolerated, str):
        tolerated = continue_on_error(tolerated, tolerance_contexts(index, build, job))
    return effective_status(job.status, bool(tolerated))


def tolerance_contexts(index: PlanIndex, build: BuildState, job: JobState) -> dict:
    """What a job's `continue-on-error` expression sees: the trigger's facts, `matrix` and
    `strategy` (not `needs` or `jobs`, so that judging one job never depends on judging others)."""
    plan_job = index.plan_job(job)
    stage = index.stage_of(job)
    combinations = [
        each for each in build.jobs.values() if each.job_id == job.job_id and index.stage_of(each) == stage
    ]
    return {
        **trigger_facts(index.plan, build.static, job.job_id),
        "matrix": dict(plan_job.get("matrix") or {}),
        "strategy": strategy_context(plan_job, combinations, job),
    }


def trigger_facts(plan: dict, static: dict, job_id: str) -> dict:
    """`ci`, `github`, `inputs`, `variables` and `vars` for one job (or a stage: job_id "")."""
    variables = {**plan.get("variables", {}), **static.get("variables", {})}
    return {
        "ci": dict(static.get("ci", {})),
        "github": github_context(static, job_id=job_id),
        "inputs": {**plan.get("input_values", {}), **static.get("inputs", {})},
        "variables": variables,
        "vars": variables,
    }


def continue_on_error(value: bool | str | None, contexts: dict) -> bool:
    """A Plan's `continue_on_error`: a bool, or a condition evaluated now (errors mean false)."""
    if not isinstance(value, str):
        return bool(value)
    try:
        return evaluate_condition(value, contexts, NOT_A_CONDITION)
    except ExpressionError:
        return False


def steps_context(plan_job: dict, steps: list[StepState], contexts: dict) -> dict:
    """`steps.<id>.outputs|outcome|conclusion` for the finished steps that have an id."""
    by_index = {state.index: state for state in steps}
    result = {}
    for plan_step in plan_job.get("steps", []):
        state = by_index.get(plan_step["index"])
        if plan_step.get("id") and state is not None and state.status in TERMINAL:
            result[plan_step["id"]] = {
                "outputs": dict(state.outputs),
                "outcome": result_word(state.status),
                "conclusion": result_word(step_conclusion(plan_step, state, contexts)),
            }
    return result


def step_conclusion(plan_step: dict, state: StepState, contexts: dict) -> str:
    """A finished step's status after continue-on-error (its `outcome` is the raw status)."""
    if state.status not in FAILURES:
        return state.status
    return effective_status(state.status, continue_on_error(plan_step.get("continue_on_error"), contexts))


def job_status_word(plan_job: dict, steps: list[StepState], contexts: dict, cancel_requested: bool) -> str:
    """`job.status`: cancelled, failure (a step failed without continue-on-error) or success."""
    if cancel_requested:
        return "cancelled"
    plan_steps = {plan_step["index"]: plan_step for plan_step in plan_job.get("steps", [])}
    for state in steps:
        plan_step = plan_steps.get(state.index, {})
        if step_conclusion(plan_step, state, contexts) in FAILURES:
            return "failure"
    return "success"


def finished_steps(steps: list[StepState]) -> list[StepState]:
    return sorted((state for state in steps if state.status in TERMINAL), key=lambda state: state.index)


def exported_env(steps: list[StepState]) -> dict[str, str]:
    """The env that finished steps wrote to `$DEVOPS_ENV`, later steps winning."""
    env: dict[str, str] = {}
    for state in finished_steps(steps):
        env.update(state.env)
    return env


def exported_path(steps: list[StepState]) -> list[str]:
    """The `$DEVOPS_PATH` entries of finished steps, to prepend to PATH in this order (the most
    recent first, as GitHub does)."""
    path: list[str] = []
    for state in finished_steps(steps):
        path[:0] = list(state.path)
    return path


def render_env(templates: dict | None, contexts: dict, env: dict) -> dict:
    """`env` updated with each template rendered in order (each sees the values before it)."""
    for name, template in (templates or {}).items():
        text = template if isinstance(template, str) else to_string(template)
        env[name] = render_template(text, {**contexts, "env": env})
    return env


def lenient_env(plan: dict, plan_job: dict, contexts: dict) -> dict:
    """Pipeline env then job env for the `env` context; a value that cannot be rendered stays as
    written (the step that gets it fails in `step_environment`)."""
    env: dict[str, str] = {}
    for templates in (plan.get("env"), plan_job.get("env")):
        for name, template in (templates or {}).items():
            try:
                render_env({name: template}, contexts, env)
            except ExpressionError:
                env[name] = template if isinstance(template, str) else to_string(template)
    return env


def builtin_env(contexts: dict) -> dict[str, str]:
    """`CI=true`, the `DEVOPS_*` facts and their `GITHUB_*` twins (GITHUB_ACTIONS is not set)."""
    ci, github = contexts.get("ci", {}), contexts.get("github", {})
    facts = {
        "CI": "true",
        "DEVOPS_PROJECT": ci.get("project"),
        "DEVOPS_PIPELINE": ci.get("pipeline"),
        "DEVOPS_BUILD_ID": ci.get("build_id"),
        "DEVOPS_BUILD_NUMBER": ci.get("build_number"),
        "DEVOPS_JOB": github.get("job"),
        "DEVOPS_SHA": ci.get("sha"),
        "DEVOPS_REF": ci.get("ref"),
        "DEVOPS_BRANCH": ci.get("branch"),
        "DEVOPS_EVENT": ci.get("event"),
        "DEVOPS_ACTOR": ci.get("actor"),
        "DEVOPS_REPOSITORY": ci.get("repository"),
        "GITHUB_SHA": github.get("sha"),
        "GITHUB_REF": github.get("ref"),
        "GITHUB_REF_NAME": github.get("ref_name"),
        "GITHUB_EVENT_NAME": github.get("event_name"),
        "GITHUB_ACTOR": github.get("actor"),
        "GITHUB_RUN_NUMBER": github.get("run_number"),
        "GITHUB_RUN_ID": github.get("run_id"),
        "GITHUB_JOB": github.get("job"),
        "GITHUB_REPOSITORY": github.get("repository"),
    }
    return {name: "" if value is None else to_string(value) for name, value in facts.items()}


def step_environment(
    *, plan: dict, plan_job: dict, plan_step: dict, contexts: dict, exported: dict[str, str]
) -> dict[str, str]:
    """The env for one step: pipeline env, job env, env exported by earlier steps, step env (each
    rendered in that order, later wins), then the built-in facts, which cannot be overridden.
    Raises ExpressionError when a template cannot be rendered."""
    env: dict[str, str] = {}
    render_env(plan.get("env"), contexts, env)
    render_env(plan_job.get("env"), contexts, env)
    env.update(exported)
    render_env(plan_step.get("env"), contexts, env)
    env.update(builtin_env(contexts))
    return env


def job_outputs(plan_job: dict, contexts: dict) -> dict[str, str]:
    """The job's `outputs:` rendered with its final contexts; an output that cannot be rendered
    is empty (as in GitHub Actions)."""
    outputs = {}
    for name, template in (plan_job.get("outputs") or {}).items():
        try:
            text = template if isinstance(template, str) else to_string(template)
            outputs[name] = render_template(text, contexts)
        except ExpressionError:
            outputs[name] = ""
    return outputs
