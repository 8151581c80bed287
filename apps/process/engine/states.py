"""Statuses and the state the engine's decisions read: plain frozen dataclasses, no Django.

The persistence side loads a `BuildState` from its rows (Build, StageRun, JobRun, StepRun),
asks `decisions.decide_build` / `steps.decide_next_step` what to change, and writes the answer
back. Field by field:

- `BuildState.static` holds the contexts fixed when the build was triggered:
  `apps.process.language.static_contexts(trigger=..., inputs=..., variables=..., ...)`, i.e.
  `{"ci", "github", "inputs", "variables", "vars"}`.
- `BuildState.jobs` maps a job key to its `JobState`, in Plan order (a deferred matrix's
  combinations take the place of their entry, see `decisions.ExpandMatrix`).
- `JobState.matrix` / `name` are the combination values and display name of a job expanded from a
  deferred matrix (`None` means "as in the Plan"); `outputs` are the job's rendered `outputs:`;
  `step_outputs` maps step id -> outputs (for BK-CI's `jobs.<id>.steps.<step>.outputs`);
  `cancel_requested` records that the agent has been told to stop it; `started_at` (seconds,
  same clock as `decide_build`'s `now`) is when an agent claimed it.
- `StepState` is the latest attempt of one step of a job.
- `BuildState.reviews` / `blocks` map a stage index to its review (`ReviewState`) or the gate
  that blocked it (`GateBlock`), for the build's current attempt; `metrics` are the build's
  metrics by name and `rules` the quality rules of the database that apply to its pipeline (the
  persistence side may pass lazy mappings: they are read only at a stage's control points).

The Plan is the dict described in docs/plan-format.md; `PlanIndex` answers the lookups the
engine needs from it (which stage a job is in, the Plan entry of a job state).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PENDING = "pending"
QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
CANCELED = "canceled"
SKIPPED = "skipped"
TIMED_OUT = "timed_out"
WAITING_REVIEW = "waiting_review"
BLOCKED = "blocked"

# a stage review's decision (ReviewState.status)
WAITING, APPROVED, REJECTED = "waiting", "approved", "rejected"

TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELED, SKIPPED, TIMED_OUT})
ACTIVE = frozenset({QUEUED, RUNNING})
FAILURES = frozenset({FAILED, TIMED_OUT})


@dataclass(frozen=True)
class StepState:
    index: int
    status: str = PENDING
    attempt: int = 1
    outputs: dict[str, Any] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    path: tuple[str, ...] = ()
    exit_code: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class JobState:
    key: str
    job_id: str
    status: str = PENDING
    reason: str = ""
    matrix: dict[str, Any] | None = None
    name: str | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    step_outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    cancel_requested: bool = False
    started_at: float | None = None


@dataclass(frozen=True)
class StageState:
    index: int
    status: str = PENDING
    reason: str = ""


@dataclass(frozen=True)
class ReviewState:
    """A stage's review as decided: `waiting`, `approved` or `rejected`; `deadline` in seconds."""

    status: str
    deadline: float
    reason: str = ""


@dataclass(frozen=True)
class GateBlock:
    """A stage a quality gate blocked at `point` (check-in or check-out) until `deadline`,
    unless a gatekeeper `overridden` it."""

    point: str
    deadline: float
    overridden: bool = False


@dataclass(frozen=True)
class BuildState:
    stages: tuple[StageState, ...]
    jobs: dict[str, JobState]
    static: dict[str, Any] = field(default_factory=dict)
    status: str = PENDING
    reason: str = ""
    cancel_requested: bool = False
    reviews: Mapping[int, ReviewState] = field(default_factory=dict)
    blocks: Mapping[int, GateBlock] = field(default_factory=dict)
    metrics: Mapping[str, Any] = field(default_factory=dict)
    rules: Sequence[dict] = ()


def initial_build_state(plan: dict, static: dict) -> BuildState:
    """A build that has not started: every stage and job of the Plan pending."""
    stages = tuple(StageState(index=stage["index"]) for stage in plan["stages"])
    jobs = {
        job["key"]: JobState(key=job["key"], job_id=job["id"])
        for stage in plan["stages"]
        for job in stage["jobs"]
    }
    return BuildState(stages=stages, jobs=jobs, static=static)


class PlanIndex:
    """Lookups into a Plan: a job's stage and its Plan entry (a deferred matrix's combinations
    share the entry of their job, keyed by the job id)."""

    def __init__(self, plan: dict):
        self.plan = plan
        self.stages = plan["stages"]
        self.entries: dict[str, dict] = {}
        self.stage_of_key: dict[str, int] = {}
        for position, stage in enumerate(self.stages):
            for job in stage["jobs"]:
                self.entries[job["key"]] = job
                self.stage_of_key[job["key"]] = position

    def entry(self, job: JobState) -> dict:
        return self.entries.get(job.key) or self.entries[job.job_id]

    def stage_of(self, job: JobState) -> int:
        if job.key in self.stage_of_key:
            return self.stage_of_key[job.key]
        return self.stage_of_key[job.job_id]

    def plan_job(self, job: JobState) -> dict:
        """The Plan entry of `job`; for a combination of a deferred matrix, the entry with its
        own key, name and matrix values filled in."""
        entry = self.entry(job)
        if job.matrix is None and job.name is None:
            return entry
        return {
            **entry,
            "key": job.key,
            "name": job.name or entry.get("name") or job.job_id,
            "matrix": job.matrix,
            "matrix_expression": None,
        }

    def is_deferred(self, job: JobState) -> bool:
        """True for a job whose matrix is an expression that has not been expanded yet."""
        return job.matrix is None and bool(self.entry(job).get("matrix_expression"))


def plan_job_of(plan: dict, job: JobState) -> dict:
    """The Plan entry to run `job` with (see `PlanIndex.plan_job`)."""
    return PlanIndex(plan).plan_job(job)


def group_jobs(state: BuildState, index: PlanIndex) -> dict[tuple[int, str], list[JobState]]:
    """Job states by (stage position, job id): every matrix combination of a job, in order."""
    groups: dict[tuple[int, str], list[JobState]] = {}
    for job in state.jobs.values():
        groups.setdefault((index.stage_of(job), job.job_id), []).append(job)
    return groups
