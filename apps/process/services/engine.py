"""The engine's persistence half: load a build's state from its rows, ask the pure decisions
(`apps.process.engine`) what changes, write the changes, and emit follow-up events on commit.

`build_advance(build_id)` is the one event handler: every event of a build (`build.started`,
`job.finished`, `build.cancel`, `lease.expired`, ...) ends in it, and it is idempotent: applied
twice to the same state it changes nothing.
"""

import time
from dataclasses import fields
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone as dj_timezone

from apps.process import engine
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.engine.steps import default_name
from apps.process.language import TriggerEvent, static_contexts
from apps.process.models import Build, JobRun, StageRun, StepRun
from apps.process.services import events, live, stage_checks
from apps.process.services.plan_cache import build_with_plan
from apps.process.signals import build_event_on_commit

TRIGGER_FIELDS = frozenset(field.name for field in fields(TriggerEvent))
STAGE_EVENTS = {Status.WAITING_REVIEW: "review.requested", Status.BLOCKED: "gate.blocked"}


def trigger_event(build: Build) -> TriggerEvent:
    """The build's trigger; extra facts kept beside it (such as `repository`) are not part of it."""
    data = {key: value for key, value in build.trigger.items() if key in TRIGGER_FIELDS}
    data["changed_files"] = tuple(data.get("changed_files") or ())
    return TriggerEvent(**data)


def build_static_contexts(build: Build) -> dict:
    pipeline = build.pipeline
    return static_contexts(
        trigger=trigger_event(build),
        inputs=build.inputs,
        variables=build.variables,
        pipeline_name=pipeline.slug,
        project=pipeline.project.slug,
        build_number=build.number,
        build_id=str(build.id),
        repository=build.trigger.get("repository", ""),
    )


def epoch(moment: datetime | None) -> float | None:
    return moment.timestamp() if moment else None


STEP_FIELDS = ("job_id", "job_attempt", "index", "step_id", "status", "attempt", "outputs", "env", "path",
               "exit_code", "reason")


def step_state(row: dict) -> engine.StepState:
    """The engine's view of a started step, from a `StepRun.objects.values(*STEP_FIELDS)` row."""
    return engine.StepState(
        index=row["index"],
        status=row["status"],
        attempt=max(row["attempt"], 1),
        outputs=row["outputs"],
        env=row["env"],
        path=tuple(row["path"]),
        exit_code=row["exit_code"],
        reason=row["reason"],
    )


def job_state(job: JobRun, in_plan: bool, steps: list[dict]) -> engine.JobState:
    return engine.JobState(
        key=job.key,
        job_id=job.job_id,
        status=job.status,
        reason=job.reason,
        matrix=None if in_plan else job.matrix,
        name=None if in_plan else job.name,
        outputs=job.outputs,
        step_outputs={step["step_id"]: step["outputs"] for step in steps if step["step_id"]},
        cancel_requested=job.cancel_requested,
        started_at=epoch(job.started_at),
    )


def started_steps(
    build: Build, job_rows: list[JobRun], full_job_id: int | None = None
) -> dict[int, list[dict]]:
    """The started steps of each job's current attempt, by job row id, in step order: every one of
    job `full_job_id`, only those with a step id (whose outputs other jobs read) of the rest."""
    attempts = {job.id: job.attempt for job in job_rows}
    rows = StepRun.objects.filter(job__build=build).exclude(status=Status.PENDING).order_by("index")
    rows = rows.filter(Q(job_id=full_job_id) | ~Q(step_id=""))
    steps: dict[int, list[dict]] = {}
    for row in rows.values(*STEP_FIELDS):
        if row["job_attempt"] == attempts.get(row["job_id"]):
            steps.setdefault(row["job_id"], []).append(row)
    return steps


def load_state(
    build: Build, job_rows: list[JobRun] | None = None, full_job_id: int | None = None
) -> tuple[engine.BuildState, dict]:
    """The build's state for the decisions, and the started steps by job row id (see `started_steps`)."""
    plan_keys = {job["key"] for stage in build.plan["stages"] for job in stage["jobs"]}
    job_rows = list(build.jobs.order_by("id")) if job_rows is None else job_rows
    steps_by_job = started_steps(build, job_rows, full_job_id)
    jobs = {
        job.key: job_state(job, job.key in plan_keys, steps_by_job.get(job.id, []))
        for job in job_rows
    }
    stages = tuple(
        engine.StageState(index=stage.index, status=stage.status, reason=stage.reason)
        for stage in build.stages.order_by("index")
    )
    state = engine.BuildState(
        stages=stages,
        jobs=jobs,
        static=build_static_contexts(build),
        status=build.status,
        reason=build.reason,
        cancel_requested=build.cancel_requested_at is not None,
        **stage_checks.stage_checks_state(build),
    )
    return state, steps_by_job


def plan_steps(plan_job: dict) -> list[dict]:
    return plan_job.get("steps") or []


def step_display_name(plan_step: dict) -> str:
    kind = plan_step.get("kind") or ("checkout" if plan_step.get("checkout") else "run")
    return (plan_step.get("name") or default_name(plan_step, kind))[:300]


def job_run_create(*, build: Build, stage: StageRun, plan_job: dict, key: str, name: str, matrix) -> JobRun:
    runs_on = plan_job.get("runs_on") or {}
    job = JobRun.objects.create(
        build=build,
        stage=stage,
        key=key,
        job_id=plan_job["id"],
        name=name[:300],
        matrix=matrix,
        labels=list(runs_on.get("labels") or []),
        pool=runs_on.get("pool") or "",
    )
    StepRun.objects.bulk_create(
        StepRun(job=job, index=step["index"], step_id=step.get("id") or "", name=step_display_name(step))
        for step in plan_steps(plan_job)
    )
    return job


def timestamps_for(status: str, now: datetime) -> dict:
    if status == Status.QUEUED:
        return {"queued_at": now}
    if status == Status.RUNNING:
        return {"started_at": now}
    if status in TERMINAL_STATUSES:
        return {"finished_at": now}
    return {}


class ChangeWriter:
    """Writes the engine's changes to the rows of one (locked) build."""

    def __init__(self, build: Build, now: datetime):
        self.build = build
        self.now = now
        self.queued_jobs = 0
        self.finished = False

    def write(self, change) -> None:
        getattr(self, f"write_{type(change).__name__}")(change)

    def write_BuildStatus(self, change: engine.BuildStatus) -> None:
        build = self.build
        build.status, build.reason = change.status, change.reason
        if change.status == Status.RUNNING and build.started_at is None:
            build.started_at = self.now
        if change.status in TERMINAL_STATUSES:
            build.finished_at = self.now
            self.finished = True
        build.save(update_fields=["status", "reason", "started_at", "finished_at"])
        if change.status in TERMINAL_STATUSES:
            build_event_on_commit(build.id, f"build.{change.status}")

    def write_StageStatus(self, change: engine.StageStatus) -> None:
        fields = {"status": change.status, "reason": change.reason}
        if change.status == Status.RUNNING:
            fields["started_at"] = self.now
        if change.status in TERMINAL_STATUSES:
            fields["finished_at"] = self.now
        StageRun.objects.filter(build=self.build, index=change.stage_index).update(**fields)
        if change.status in STAGE_EVENTS:
            build_event_on_commit(self.build.id, STAGE_EVENTS[change.status], stage_index=change.stage_index)

    def write_JobStatus(self, change: engine.JobStatus) -> None:
        fields = {"status": change.status, "reason": change.reason, **timestamps_for(change.status, self.now)}
        if change.status in TERMINAL_STATUSES:
            fields["lease_expires_at"] = None
        JobRun.objects.filter(build=self.build, key=change.job_key).update(**fields)
        if change.status == Status.QUEUED:
            self.queued_jobs += 1
        if change.status in (Status.SKIPPED, Status.CANCELED):
            job = JobRun.objects.get(build=self.build, key=change.job_key)
            StepRun.objects.filter(job=job, job_attempt=job.attempt, status=Status.PENDING).update(
                status=change.status
            )

    def write_CancelJob(self, change: engine.CancelJob) -> None:
        JobRun.objects.filter(build=self.build, key=change.job_key).update(
            cancel_requested=True, reason=change.reason
        )

    def write_ReviewRequested(self, change: engine.ReviewRequested) -> None:
        stage_checks.review_request(self.build, change)

    def write_ReviewExpired(self, change: engine.ReviewExpired) -> None:
        stage_checks.review_expire(self.build, change)

    def write_GateChecked(self, change: engine.GateChecked) -> None:
        stage_checks.gates_record(self.build, change)

    def write_GateExpired(self, change: engine.GateExpired) -> None:
        stage_checks.gates_expire(self.build, change)

    def write_ExpandMatrix(self, change: engine.ExpandMatrix) -> None:
        deferred = JobRun.objects.get(build=self.build, key=change.job_key)
        plan_job = next(
            job
            for stage in self.build.plan["stages"]
            for job in stage["jobs"]
            if job["key"] == change.job_key
        )
        labels = change.labels or [None] * len(change.keys)
        for key, combination, name, job_labels in zip(
            change.keys, change.combinations, change.names, labels, strict=True
        ):
            job = job_run_create(
                build=self.build,
                stage=deferred.stage,
                plan_job=plan_job,
                key=key,
                name=name,
                matrix=combination,
            )
            if job_labels is not None:
                JobRun.objects.filter(id=job.id).update(labels=list(job_labels))
        deferred.delete()


def build_advance(build_id: int) -> None:
    """Apply every decision that follows from the build's current state (idempotent)."""
    with transaction.atomic():
        builds = Build.objects.select_for_update().select_related("pipeline__project").defer("plan")
        build = builds.filter(id=build_id).first()
        if build is None or build.status in TERMINAL_STATUSES:
            return
        build_with_plan(build)
        if build.status == Status.QUEUED:
            if not events.concurrency_turn(build):
                return
            build.status = Status.PENDING
            build.save(update_fields=["status"])
        state, _ = load_state(build)
        changes = engine.decide_build(build.plan, state, time.time())
        writer = ChangeWriter(build, dj_timezone.now())
        for change in changes:
            writer.write(change)
        if changes:
            live.build_changed_on_commit(build.id)
        events.after_advance(build, queued_jobs=writer.queued_jobs, finished=writer.finished)
