"""The engine's pure half: decisions over a build's state (no Django, Celery or clock).

A Celery task locks a build, loads a `BuildState`, calls `decide_build(plan, state, now)`,
writes each change (as `apply_changes` defines them) and emits follow-up events after commit.
The agent's `steps/next` call records the completed step, builds `job_contexts(...)` and asks
`decide_next_step(...)`; when it answers `JobDone`, the job's `outputs` are
`job_outputs(plan_job, contexts)` and the next `decide_build` moves the build on.

Modules: `states` (statuses, state dataclasses, Plan lookups), `results` (roll-up),
`decisions` (build, stage and job decisions), `steps` (step decisions), `contexts`
(expression contexts and step environment).
"""
from .contexts import job_contexts, job_outputs, step_environment
from .decisions import (
    BuildStatus,
    CancelJob,
    Change,
    ExpandMatrix,
    GateChecked,
    GateExpired,
    JobStatus,
    ReviewExpired,
    ReviewRequested,
    StageStatus,
    apply_changes,
    decide_build,
)
from .results import build_result, rollup, worst_status
from .states import BuildState, JobState, PlanIndex, StageState, StepState, initial_build_state, plan_job_of
from .steps import (
    FailStep,
    JobDone,
    RunStep,
    SkipStep,
    StepDecision,
    decide_next_step,
    first_step_offered,
    job_status_from_steps,
    lookahead_steps,
)

__all__ = [
    "BuildState",
    "BuildStatus",
    "CancelJob",
    "Change",
    "ExpandMatrix",
    "GateChecked",
    "GateExpired",
    "ReviewExpired",
    "ReviewRequested",
    "FailStep",
    "JobDone",
    "JobState",
    "JobStatus",
    "PlanIndex",
    "RunStep",
    "SkipStep",
    "StageState",
    "StageStatus",
    "StepDecision",
    "StepState",
    "apply_changes",
    "build_result",
    "decide_build",
    "decide_next_step",
    "first_step_offered",
    "initial_build_state",
    "job_contexts",
    "job_outputs",
    "job_status_from_steps",
    "lookahead_steps",
    "plan_job_of",
    "rollup",
    "step_environment",
    "worst_status",
]
