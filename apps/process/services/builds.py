"""Start, cancel and retry builds."""

from dataclasses import asdict

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from apps.core.choices import Role
from apps.core.errors import Conflict, ValidationFailed
from apps.core.models import Project
from apps.core.permissions import require_role
from apps.environment.selectors import node_group_list
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.language import PipelineError, TriggerEvent, compile_pipeline
from apps.process.language.expressions import ExpressionError, render_template
from apps.process.models import Build, JobRun, Pipeline, StageRun, StepRun
from apps.process.services.engine import build_static_contexts, job_run_create
from apps.process.services.events import emit_build_advance, group_builds

QUEUE_FULL = "canceled: concurrency group '{group}' already has {length} builds queued"
SUPERSEDED = "canceled: a newer build of concurrency group '{group}' started (cancel-in-progress)"


def compile_for_build(*, pipeline: Pipeline, trigger: TriggerEvent, inputs: dict, variables: dict) -> dict:
    try:
        plan = compile_pipeline(
            pipeline.current_version.yaml,
            filename=pipeline.slug,
            trigger=trigger,
            inputs=inputs,
            variables=variables,
        )
    except PipelineError as error:
        problems = [
            {"path": p.path, "line": p.line, "column": p.column, "message": p.message} for p in error.problems
        ]
        raise ValidationFailed("the pipeline cannot start", details={"problems": problems}) from error
    problems = environment_input_problems(pipeline, plan, given=inputs)
    if problems:
        raise ValidationFailed("the pipeline cannot start", details={"problems": problems})
    return plan


def environment_input_problems(pipeline: Pipeline, plan: dict, *, given: dict) -> list[dict]:
    """An `environment` input given a value must name one of the project's node groups (a default
    written in the YAML is taken as it is)."""
    names = [name for name, spec in (plan.get("inputs") or {}).items() if spec["type"] == "environment"]
    chosen = {name: (plan.get("input_values") or {}).get(name) for name in names if given.get(name)}
    if not chosen:
        return []
    groups = set(node_group_list(pipeline.project).values_list("name", flat=True))
    listed = ", ".join(sorted(groups)) or "none yet"
    return [
        {
            "path": f"on.manual.inputs.{name}",
            "line": None,
            "column": None,
            "message": f"input '{name}' must name a node group of the project ({listed}), got '{value}'",
        }
        for name, value in chosen.items()
        if value not in groups
    ]


def build_rows_create(build: Build) -> None:
    for stage in build.plan["stages"]:
        stage_run = StageRun.objects.create(
            build=build,
            index=stage["index"],
            stage_id=stage["id"],
            name=stage["name"],
            is_finally=bool(stage.get("finally")),
        )
        for plan_job in stage["jobs"]:
            job_run_create(
                build=build,
                stage=stage_run,
                plan_job=plan_job,
                key=plan_job["key"],
                name=plan_job.get("name") or plan_job["id"],
                matrix=plan_job.get("matrix"),
            )


def concurrency_group_of(build: Build) -> str:
    concurrency = build.plan.get("concurrency")
    if not concurrency or not concurrency.get("group"):
        return ""
    try:
        return render_template(concurrency["group"], build_static_contexts(build))[:255]
    except ExpressionError as error:
        raise ValidationFailed(f"concurrency group: {error}") from error


def apply_concurrency(build: Build) -> None:
    """Queue the build behind its group, cancel the builds it supersedes, or refuse it when full."""
    concurrency = build.plan["concurrency"]
    # Groups span the project's pipelines: its row serialises every decision about them.
    Project.objects.select_for_update().get(id=build.pipeline.project_id)
    others = group_builds(build).select_for_update()
    if concurrency.get("cancel_in_progress"):
        for other in others.exclude(status__in=TERMINAL_STATUSES):
            build_cancel_request(build=other, reason=SUPERSEDED.format(group=build.concurrency_group))
        return
    waiting = others.filter(status=Status.QUEUED).count()
    length = concurrency.get("queue_length")
    if length is not None and waiting >= length:
        build.status = Status.CANCELED
        build.reason = QUEUE_FULL.format(group=build.concurrency_group, length=waiting)
        build.finished_at = timezone.now()
        Build.objects.filter(id=build.id).update(
            status=build.status, reason=build.reason, finished_at=build.finished_at
        )
        StageRun.objects.filter(build=build).update(status=Status.CANCELED)
        JobRun.objects.filter(build=build).update(status=Status.CANCELED, reason=build.reason)
        StepRun.objects.filter(job__build=build).update(status=Status.CANCELED)


def build_start(
    *,
    pipeline: Pipeline,
    user=None,
    trigger: TriggerEvent | None = None,
    inputs: dict | None = None,
    variables: dict | None = None,
) -> Build:
    """Snapshot the pipeline's version, compile it, write the build's rows and emit build.started."""
    if user is not None:
        require_role(user, pipeline.project, Role.DEVELOPER)
    if pipeline.is_archived:
        raise Conflict("the pipeline is archived")
    trigger = trigger or TriggerEvent(event="manual", actor=getattr(user, "username", ""))
    plan = compile_for_build(
        pipeline=pipeline, trigger=trigger, inputs=inputs or {}, variables=variables or {}
    )
    with transaction.atomic():
        locked = Pipeline.objects.select_for_update().get(id=pipeline.id)
        number = (locked.builds.aggregate(last=Max("number"))["last"] or 0) + 1
        build = Build.objects.create(
            pipeline=locked,
            version=locked.current_version,
            number=number,
            plan=plan,
            trigger=asdict(trigger),
            inputs=plan.get("input_values") or {},
            variables=variables or {},
            created_by=user if user is not None and user.is_authenticated else None,
        )
        build.pipeline = pipeline
        build_rows_create(build)
        build.concurrency_group = concurrency_group_of(build)
        if build.concurrency_group:
            build.status = Status.QUEUED
            Build.objects.filter(id=build.id).update(
                concurrency_group=build.concurrency_group, status=Status.QUEUED
            )
            apply_concurrency(build)
        if build.status not in TERMINAL_STATUSES:
            emit_build_advance(build.id)
    return build


def build_cancel_request(*, build: Build, reason: str) -> None:
    if build.status in TERMINAL_STATUSES or build.cancel_requested_at is not None:
        return
    Build.objects.filter(id=build.id).update(cancel_requested_at=timezone.now(), reason=reason)
    emit_build_advance(build.id)


def build_cancel(*, build: Build, user) -> Build:
    require_role(user, build.pipeline.project, Role.DEVELOPER)
    with transaction.atomic():
        build_cancel_request(build=build, reason=f"canceled by {user.username}")
    build.refresh_from_db()
    return build


def job_cancel(*, job: JobRun, user) -> JobRun:
    """Cancel one job: the agent stops it; the rest of the build goes on as the pipeline says."""
    require_role(user, job.build.pipeline.project, Role.DEVELOPER)
    with transaction.atomic():
        if job.status in (Status.PENDING, Status.QUEUED):
            JobRun.objects.filter(id=job.id).update(
                status=Status.CANCELED, reason=f"canceled by {user.username}", finished_at=timezone.now()
            )
        elif job.status == Status.RUNNING:
            JobRun.objects.filter(id=job.id).update(
                cancel_requested=True, reason=f"canceled by {user.username}"
            )
        emit_build_advance(job.build_id)
    job.refresh_from_db()
    return job


RETRIED_STATUSES = frozenset({Status.FAILED, Status.CANCELED, Status.TIMED_OUT, Status.SKIPPED})


def build_retry(*, build: Build, user, only_failed: bool = False) -> Build:
    """Run a finished build again as its next attempt: every job, or only those that did not succeed."""
    require_role(user, build.pipeline.project, Role.DEVELOPER)
    with transaction.atomic():
        build = Build.objects.select_for_update().get(id=build.id)
        if build.status not in TERMINAL_STATUSES:
            raise Conflict("only a finished build can be retried")
        jobs = build.jobs.all()
        if only_failed:
            jobs = jobs.filter(status__in=RETRIED_STATUSES) | build.jobs.filter(stage__is_finally=True)
        for job in jobs:
            job_reset(job)
        StageRun.objects.filter(build=build).update(status=Status.PENDING, reason="", finished_at=None)
        Build.objects.filter(id=build.id).update(
            attempt=build.attempt + 1,
            status=Status.PENDING,
            reason="",
            finished_at=None,
            cancel_requested_at=None,
        )
        emit_build_advance(build.id)
    build.refresh_from_db()
    return build


def job_reset(job: JobRun) -> None:
    attempt = job.attempt + 1
    JobRun.objects.filter(id=job.id).update(
        attempt=attempt,
        lost_agent_retries=0,
        status=Status.PENDING,
        reason="",
        agent=None,
        lease_expires_at=None,
        cancel_requested=False,
        outputs={},
        queued_at=None,
        started_at=None,
        finished_at=None,
    )
    template = StepRun.objects.filter(job=job, job_attempt=job.attempt).order_by("index")
    StepRun.objects.bulk_create(
        StepRun(job=job, job_attempt=attempt, index=step.index, step_id=step.step_id, name=step.name)
        for step in template
    )
