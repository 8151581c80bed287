"""Build decisions: given the Plan and a build's state, what changes now.

    changes = decide_build(plan, state, now)      # list of changes, in the order to apply them
    state = apply_changes(state, changes)         # what persisting them means, as a pure function

`decide_build` repeats its rules until nothing more changes, so one call does all that follows
from one event, and a second call on the applied state returns `[]` (unless `now` moved past a
job's timeout). It never changes a terminal build, stage or job. Changes:
- `BuildStatus(status, reason)`: pending -> running (or waiting_review while a stage waits for
  review) -> a terminal status once every stage is terminal.
- `StageStatus(stage_index, status, reason)`: pending -> running, skipped (its `if` is false),
  failed (its `if` raised), canceled (build canceled and its `if` false) or waiting_review
  (`check_in.reviews`: the review feature sets it running, or cancels the build); running ->
  the roll-up of its jobs once they are all terminal. A stage that ends before running ends
  its jobs (skipped, or canceled) in the next round.
- `JobStatus(job_key, status, reason)`: pending -> queued (needs terminal, `if` holds, under
  `max-parallel`), skipped (`if` false), failed (`if` raised, bad deferred matrix), canceled;
  queued -> canceled; running -> timed_out (past `timeout_minutes` since `started_at`).
- `CancelJob(job_key, reason)`: tell the agent running the job to stop; the job stays running
  until the agent finishes it (the persistence side sets `cancel_requested`).
- `ExpandMatrix(job_key, combinations, names, labels)`: a deferred matrix
  (`matrix_expression`) is ready; the job entry is replaced by one pending job per combination,
  keys `<id>.<n>` (`.keys`), with its matrix values, name and rendered `runs-on` labels
  (`apps.process.language.plan.expand_deferred_job`). Its `if` was checked before expansion
  with an empty `matrix`, and is checked again for each combination.

Rules (GitHub Actions' where the two languages meet):
- Stages run in order. A stage's `if` gets an implicit `success()`: no earlier stage failed or
  was canceled and the build is not canceled; so a failed stage skips the later ones (and a
  canceled build cancels them). The `finally` stage always runs; in it `success()` and
  `failure()` also look at every earlier stage.
- A job waits until every combination of each of its `needs` is terminal. Its `if` gets an
  implicit `success()`: every need succeeded (a skipped need is not success) and no ancestor
  failed or was canceled. `failure()`: some ancestor (needs, transitively) failed.
  `cancelled()`: the build's cancel was requested.
- Cancel: a pending job whose `if` is false once `cancelled()` is true (and `success()` false)
  is canceled instead of skipped; a queued or running job whose `if` no longer holds is
  canceled / told to stop; so `always()` jobs and the `finally` stage still run.
- `continue_on_error` on a job: the job keeps its status `failed` (what the user sees), but its
  stage, the build and its dependents count it as succeeded (`needs.<id>.result` is
  `success`), as GitHub makes the workflow pass. It does not trigger fast-kill or fail-fast.
- Stage `fast_kill`: a failed job cancels every unfinished job of its stage. Matrix
  `fail_fast` (default true): a failed combination cancels its unfinished siblings.
  `max_parallel`: at most N combinations of a job queued or running at once.
- A stage's status is the worst of its jobs (results.py); the build's is the worst of its
  stages, or `canceled` when cancel was requested.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from functools import partial

from apps.process.language.expressions import ExpressionError, StatusFunctions, evaluate_condition
from apps.process.language.plan import expand_deferred_job

from .contexts import Lazy, base_contexts, job_effective_status, jobs_context, trigger_facts
from .gates import (
    CHECK_IN,
    CHECK_OUT,
    PASSED,
    GateVerdict,
    block_minutes,
    evaluate_gate,
    gates_outcome,
    stage_gates,
)
from .results import build_result, rollup, worst_status
from .states import (
    ACTIVE,
    APPROVED,
    BLOCKED,
    CANCELED,
    FAILED,
    FAILURES,
    PENDING,
    QUEUED,
    REJECTED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    TERMINAL,
    TIMED_OUT,
    WAITING,
    WAITING_REVIEW,
    BuildState,
    GateBlock,
    JobState,
    PlanIndex,
    ReviewState,
    group_jobs,
)
from .steps import render_text

DEFAULT_JOB_TIMEOUT_MINUTES = 360
BUILD_CANCELED = "the build was canceled"


@dataclass(frozen=True)
class BuildStatus:
    status: str
    reason: str = ""


@dataclass(frozen=True)
class StageStatus:
    stage_index: int
    status: str
    reason: str = ""


@dataclass(frozen=True)
class JobStatus:
    job_key: str
    status: str
    reason: str = ""


@dataclass(frozen=True)
class CancelJob:
    job_key: str
    reason: str = ""


@dataclass(frozen=True)
class ExpandMatrix:
    job_key: str
    combinations: tuple[dict, ...]
    names: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...] = ()

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f"{self.job_key}.{number}" for number in range(len(self.combinations)))


@dataclass(frozen=True)
class ReviewRequested:
    """A stage starts waiting for review: who may approve (rendered), what they are asked, until when."""

    stage_index: int
    reviewers: tuple[str, ...]
    description: str
    inputs: dict
    deadline: float


@dataclass(frozen=True)
class ReviewExpired:
    stage_index: int


@dataclass(frozen=True)
class GateChecked:
    """The gates at a stage's control point were evaluated: `outcome` passed, failed or blocked."""

    stage_index: int
    point: str
    verdicts: tuple[GateVerdict, ...]
    outcome: str
    deadline: float | None = None


@dataclass(frozen=True)
class GateExpired:
    stage_index: int


Change = (
    BuildStatus | StageStatus | JobStatus | CancelJob | ExpandMatrix
    | ReviewRequested | ReviewExpired | GateChecked | GateExpired
)


def decide_build(plan: dict, state: BuildState, now: float) -> list[Change]:
    """Every change that follows from `state` at time `now` (seconds, the clock of
    `JobState.started_at`), in the order to apply them."""
    index = PlanIndex(plan)
    changes: list[Change] = []
    for _ in range(4 * len(state.jobs) + 4 * len(state.stages) + 8):
        found = _Pass(index, state, now).changes()
        if not found:
            return changes
        changes.extend(found)
        state = apply_changes(state, found)
    raise RuntimeError("the build's decisions did not settle")


def apply_changes(state: BuildState, changes: list[Change]) -> BuildState:
    """The state after `changes`: what the persistence side must write, as a pure function."""
    jobs = dict(state.jobs)
    stages = list(state.stages)
    reviews, blocks = dict(state.reviews), dict(state.blocks)
    status, reason = state.status, state.reason
    for change in changes:
        if isinstance(change, BuildStatus):
            status, reason = change.status, change.reason
        elif isinstance(change, StageStatus):
            stages[change.stage_index] = replace(
                stages[change.stage_index], status=change.status, reason=change.reason
            )
        elif isinstance(change, JobStatus):
            jobs[change.job_key] = replace(jobs[change.job_key], status=change.status, reason=change.reason)
        elif isinstance(change, CancelJob):
            jobs[change.job_key] = replace(jobs[change.job_key], cancel_requested=True, reason=change.reason)
        elif isinstance(change, ExpandMatrix):
            jobs = expanded_jobs(jobs, change)
        elif isinstance(change, ReviewRequested):
            reviews[change.stage_index] = ReviewState(WAITING, change.deadline)
        elif isinstance(change, GateChecked) and change.outcome == BLOCKED:
            blocks[change.stage_index] = GateBlock(change.point, change.deadline or 0.0)
    return replace(
        state, jobs=jobs, stages=tuple(stages), status=status, reason=reason, reviews=reviews, blocks=blocks
    )


def expanded_jobs(jobs: dict[str, JobState], change: ExpandMatrix) -> dict[str, JobState]:
    """`jobs` with the deferred entry replaced, in place, by one pending job per combination."""
    entry = jobs[change.job_key]
    result = {}
    for key, job in jobs.items():
        if key != change.job_key:
            result[key] = job
            continue
        for new_key, combination, name in zip(change.keys, change.combinations, change.names, strict=True):
            result[new_key] = JobState(key=new_key, job_id=entry.job_id, matrix=dict(combination), name=name)
    return result


class _Pass:
    """One round of the rules over a fixed state; `decide_build` repeats it to a fixed point."""

    def __init__(self, index: PlanIndex, state: BuildState, now: float):
        self.index = index
        self.state = state
        self.now = now
        self.groups = group_jobs(state, index)
        self.effective_cache: dict[str, str] = {}
        self.contexts_cache: dict[str, dict] = {}
        self.jobs_cache: dict[int, Lazy] = {}

    def changes(self) -> list[Change]:
        if self.state.status in TERMINAL:
            return []
        if self.state.status == PENDING:
            return [BuildStatus(RUNNING)]
        for position, stage in enumerate(self.state.stages):
            if stage.status in TERMINAL:
                found = self.end_unfinished(position, stage.status, stage.reason)
                if found:
                    return found
                continue
            found = self.stage_changes(position, stage.status)
            if found:
                return found
            break
        return self.build_status_changes()

    # stages

    def stage_changes(self, position: int, status: str) -> list[Change]:
        plan_stage = self.index.stages[position]
        jobs = self.stage_jobs(position)
        if status == PENDING:
            return self.start_stage(position, plan_stage)
        if status in (WAITING_REVIEW, BLOCKED) and self.state.cancel_requested:
            return [StageStatus(position, CANCELED, BUILD_CANCELED)]
        if status == WAITING_REVIEW:
            return self.review_changes(position, plan_stage)
        if status == BLOCKED:
            return self.blocked_changes(position, jobs)
        found = self.job_changes(position, plan_stage, jobs)
        if found:
            return found
        final = rollup(self.effective(job) for job in jobs)
        if final is None:
            return []
        if final == SUCCEEDED:
            return self.gated(position, plan_stage, CHECK_OUT, StageStatus(position, SUCCEEDED))
        return [StageStatus(position, final, self.stage_reason(final, jobs))]

    def start_stage(self, position: int, plan_stage: dict) -> list[Change]:
        if plan_stage.get("finally"):
            return [StageStatus(position, RUNNING)]
        cancelled = self.state.cancel_requested
        earlier = [stage.status for stage in self.state.stages[:position]]
        failed = any(status in FAILURES for status in earlier)
        succeeded = not failed and not cancelled and CANCELED not in earlier
        status = StatusFunctions(success=succeeded, failure=failed, cancelled=cancelled)
        try:
            holds = evaluate_condition(plan_stage.get("if"), self.stage_contexts(position), status)
        except ExpressionError as error:
            return [StageStatus(position, FAILED, f"if: {error}")]
        if not holds and cancelled:
            return [StageStatus(position, CANCELED, BUILD_CANCELED)]
        if not holds:
            return [StageStatus(position, SKIPPED, skipped_stage_reason(plan_stage, failed, earlier))]
        reviews = (plan_stage.get("check_in") or {}).get("reviews")
        if reviews:
            waiting = StageStatus(position, WAITING_REVIEW, "waiting for review")
            return [self.review_request(position, reviews), waiting]
        return self.gated(position, plan_stage, CHECK_IN, StageStatus(position, RUNNING))

    # reviews and gates

    def review_request(self, position: int, reviews: dict) -> ReviewRequested:
        contexts = self.stage_contexts(position)
        status = StatusFunctions(success=True, failure=False, cancelled=False)
        render = partial(render_text, contexts=contexts, status=status)
        try:
            reviewers = tuple(name for name in (render(each) for each in reviews["reviewers"]) if name)
            description = render(reviews.get("description") or "") or ""
        except ExpressionError as error:
            reviewers, description = tuple(reviews["reviewers"]), f"(description: {error})"
        hours = reviews.get("timeout_hours") or 24
        inputs = dict(reviews.get("inputs") or {})
        return ReviewRequested(position, reviewers, description, inputs, self.now + 3600 * hours)

    def review_changes(self, position: int, plan_stage: dict) -> list[Change]:
        review = self.state.reviews.get(position)
        if review is None:
            return []
        if review.status == APPROVED:
            return self.gated(position, plan_stage, CHECK_IN, StageStatus(position, RUNNING))
        if review.status == REJECTED:
            return [StageStatus(position, CANCELED, review.reason or "the review was rejected")]
        if self.now >= review.deadline:
            hours = (plan_stage.get("check_in") or {}).get("reviews", {}).get("timeout_hours") or 24
            reason = f"the review timed out after {hours} hours"
            return [ReviewExpired(position), StageStatus(position, CANCELED, reason)]
        return []

    def gated(self, position: int, plan_stage: dict, point: str, passed: StageStatus) -> list[Change]:
        """`passed` when the gates at `point` pass (or there are none); else failed or blocked."""
        gates = stage_gates(plan_stage, point, self.state.rules)
        if not gates:
            return [passed]
        verdicts = tuple(evaluate_gate(gate, self.state.metrics) for gate in gates)
        outcome = gates_outcome(verdicts)
        reason = "; ".join(verdict.reason for verdict in verdicts if not verdict.passed)
        if outcome == PASSED:
            return [GateChecked(position, point, verdicts, outcome), passed]
        if outcome == FAILED:
            return [GateChecked(position, point, verdicts, outcome), StageStatus(position, FAILED, reason)]
        deadline = self.now + 60 * block_minutes(verdicts)
        checked = GateChecked(position, point, verdicts, outcome, deadline)
        return [checked, StageStatus(position, BLOCKED, reason)]

    def blocked_changes(self, position: int, jobs: list[JobState]) -> list[Change]:
        block = self.state.blocks.get(position)
        if block is None:
            return []
        if block.overridden:
            if block.point == CHECK_IN:
                return [StageStatus(position, RUNNING)]
            return [StageStatus(position, rollup(self.effective(job) for job in jobs) or SUCCEEDED)]
        if self.now >= block.deadline:
            reason = "the quality gate was not overridden in time"
            return [GateExpired(position), StageStatus(position, FAILED, reason)]
        return []

    def end_unfinished(self, position: int, status: str, reason: str) -> list[Change]:
        """A stage that ended before its jobs ran (skipped, canceled, its `if` failed) ends them."""
        ending = CANCELED if status == CANCELED else SKIPPED
        if status == FAILED:
            reason = f"the stage failed: {reason}"
        unfinished = [job for job in self.stage_jobs(position) if job.status not in TERMINAL]
        return [change for job in unfinished for change in self.stop(job, ending, reason)]

    def stage_contexts(self, position: int) -> dict:
        return {
            **trigger_facts(self.index.plan, self.state.static, ""),
            "jobs": self.earlier_jobs(position),
        }

    def stage_reason(self, final: str, jobs: list[JobState]) -> str:
        for job in jobs:
            if self.effective(job) == final and final in FAILURES | {CANCELED}:
                return f"job {job.key} {job.status}" + (f": {job.reason}" if job.reason else "")
        return ""

    def build_status_changes(self) -> list[Change]:
        statuses = [stage.status for stage in self.state.stages]
        if all(status in TERMINAL for status in statuses):
            final = build_result(statuses, self.state.cancel_requested)
            return [BuildStatus(final, self.build_reason(final))]
        waiting = next((status for status in (WAITING_REVIEW, BLOCKED) if status in statuses), RUNNING)
        return [] if waiting == self.state.status else [BuildStatus(waiting)]

    def build_reason(self, final: str) -> str:
        if self.state.cancel_requested:
            return self.state.reason or BUILD_CANCELED
        for position, stage in enumerate(self.state.stages):
            if stage.status == final and final != SUCCEEDED:
                name = self.index.stages[position].get("name") or self.index.stages[position].get("id")
                return f"stage {name} {final}" + (f": {stage.reason}" if stage.reason else "")
        return ""

    # jobs

    def job_changes(self, position: int, plan_stage: dict, jobs: list[JobState]) -> list[Change]:
        changes: list[Change] = []
        handled: set[str] = set()

        def add(job: JobState, found: list[Change]) -> None:
            if job.key not in handled:
                handled.add(job.key)
                changes.extend(found)

        for job in jobs:
            if job.status == RUNNING and self.timed_out(job):
                reason = f"timed out after {self.timeout_minutes(job)} minutes"
                add(job, [*([] if job.cancel_requested else [CancelJob(job.key, reason)]),
                          JobStatus(job.key, TIMED_OUT, reason)])
        for job, reason in self.kills(position, plan_stage, jobs):
            add(job, self.stop(job, CANCELED, reason))
        if self.state.cancel_requested:
            for job in jobs:
                if job.status in ACTIVE and job.key not in handled and not self.still_wanted(job, position):
                    add(job, self.stop(job, CANCELED, BUILD_CANCELED))
        active = Counter(job.job_id for job in jobs if job.status in ACTIVE)
        for job in jobs:
            if job.status == PENDING and job.key not in handled:
                found = self.ready_changes(job, position, active)
                if found:
                    add(job, found)
        return changes

    def timeout_minutes(self, job: JobState) -> float:
        return self.index.plan_job(job).get("timeout_minutes") or DEFAULT_JOB_TIMEOUT_MINUTES

    def timed_out(self, job: JobState) -> bool:
        return job.started_at is not None and self.now >= job.started_at + 60 * self.timeout_minutes(job)

    def kills(self, position: int, plan_stage: dict, jobs: list[JobState]) -> list[tuple[JobState, str]]:
        """Unfinished jobs that fast-kill (stage) or fail-fast (matrix) cancel, with the reason."""
        failures = [job for job in jobs if self.effective(job) in FAILURES]
        targets: dict[str, tuple[JobState, str]] = {}
        for failed in failures:
            if plan_stage.get("fast_kill"):
                siblings, rule = jobs, "fast-kill"
            elif (self.index.plan_job(failed).get("strategy") or {}).get("fail_fast", True):
                siblings, rule = self.groups[(position, failed.job_id)], "fail-fast"
            else:
                continue
            for sibling in siblings:
                if sibling.status not in TERMINAL and sibling.key not in targets:
                    targets[sibling.key] = (sibling, f"{rule}: {failed.key} {failed.status}")
        return list(targets.values())

    def stop(self, job: JobState, status: str, reason: str) -> list[Change]:
        if job.status == RUNNING:
            return [] if job.cancel_requested else [CancelJob(job.key, reason)]
        return [JobStatus(job.key, status, reason)]

    def still_wanted(self, job: JobState, position: int) -> bool:
        """Whether a queued or running job's `if` still holds now that the build is canceled."""
        try:
            return evaluate_condition(
                self.index.plan_job(job).get("if"), self.contexts(job), self.job_status(job, position)
            )
        except ExpressionError:
            return False

    def ready_changes(self, job: JobState, position: int, active: Counter) -> list[Change]:
        plan_job = self.index.plan_job(job)
        for need in plan_job.get("needs") or []:
            if any(each.status not in TERMINAL for each in self.groups.get((position, need), [])):
                return []
        status = self.job_status(job, position)
        try:
            holds = evaluate_condition(plan_job.get("if"), self.contexts(job), status)
        except ExpressionError as error:
            return [JobStatus(job.key, FAILED, f"if: {error}")]
        if not holds:
            if status.cancelled:
                return [JobStatus(job.key, CANCELED, BUILD_CANCELED)]
            in_finally = bool(self.index.stages[position].get("finally"))
            return [JobStatus(job.key, SKIPPED, skip_reason(plan_job, status, in_finally))]
        if self.index.is_deferred(job):
            return [self.expand(job, plan_job)]
        limit = (plan_job.get("strategy") or {}).get("max_parallel")
        if limit and active[job.job_id] >= limit:
            return []
        active[job.job_id] += 1
        return [JobStatus(job.key, QUEUED)]

    def job_status(self, job: JobState, position: int) -> StatusFunctions:
        """success() / failure() / cancelled() as a job's `if` sees them."""
        cancelled = self.state.cancel_requested
        needs = self.index.plan_job(job).get("needs") or []
        ancestors = [
            self.effective(each)
            for ancestor in self.ancestors(position, needs)
            for each in self.groups.get((position, ancestor), [])
        ]
        failure = any(status in FAILURES for status in ancestors)
        success = (
            not cancelled
            and not failure
            and CANCELED not in ancestors
            and all(self.need_result(position, need) == SUCCEEDED for need in needs)
        )
        if self.index.stages[position].get("finally"):
            earlier = [stage.status for stage in self.state.stages[:position]]
            failure = failure or any(status in FAILURES for status in earlier)
            success = success and all(status in (SUCCEEDED, SKIPPED) for status in earlier)
        return StatusFunctions(success=success, failure=failure, cancelled=cancelled)

    def ancestors(self, position: int, needs: list[str]) -> set[str]:
        found: set[str] = set()
        queue = list(needs)
        while queue:
            job_id = queue.pop()
            if job_id in found:
                continue
            found.add(job_id)
            for each in self.groups.get((position, job_id), [])[:1]:
                queue.extend(self.index.plan_job(each).get("needs") or [])
        return found

    def need_result(self, position: int, need: str) -> str:
        return worst_status(self.effective(each) for each in self.groups.get((position, need), []))

    def expand(self, job: JobState, plan_job: dict) -> Change:
        try:
            entries = expand_deferred_job(plan_job, self.contexts(job))
        except (ExpressionError, ValueError) as error:
            return JobStatus(job.key, FAILED, f"matrix: {error}")
        return ExpandMatrix(
            job.key,
            combinations=tuple(entry["matrix"] for entry in entries),
            names=tuple(entry["name"] for entry in entries),
            labels=tuple(tuple(entry["runs_on"]["labels"]) for entry in entries),
        )

    # cached per pass

    def stage_jobs(self, position: int) -> list[JobState]:
        return [job for (stage, _), jobs in self.groups.items() if stage == position for job in jobs]

    def effective(self, job: JobState) -> str:
        if job.key not in self.effective_cache:
            self.effective_cache[job.key] = job_effective_status(self.index, self.state, job)
        return self.effective_cache[job.key]

    def contexts(self, job: JobState) -> dict:
        if job.key not in self.contexts_cache:
            jobs = self.earlier_jobs(self.index.stage_of(job))
            self.contexts_cache[job.key] = base_contexts(self.index, self.state, job, self.groups, jobs)
        return self.contexts_cache[job.key]

    def earlier_jobs(self, position: int) -> Lazy:
        if position not in self.jobs_cache:
            compute = partial(jobs_context, self.index, self.state, self.groups, position)
            self.jobs_cache[position] = Lazy(compute)
        return self.jobs_cache[position]


def skipped_stage_reason(plan_stage: dict, failed: bool, earlier: list[str]) -> str:
    if failed:
        return "an earlier stage failed"
    if CANCELED in earlier:
        return "an earlier stage was canceled"
    return f"condition is false: {plan_stage.get('if')}"


def skip_reason(plan_job: dict, status: StatusFunctions, in_finally: bool) -> str:
    condition = plan_job.get("if") or "success()"
    if status.failure:
        cause = "the build failed" if in_finally else "a needed job failed"
    elif not status.success:
        cause = "the build did not succeed" if in_finally else "a needed job did not succeed"
    else:
        cause = "the condition is false"
    return f"{cause} ({condition})"
