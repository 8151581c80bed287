"""Cron schedules: kept in step with each pipeline's current version, and the due ones started.

`schedules_sync` mirrors `on: schedule` into PipelineSchedule rows (one per cron and branch; an
archived pipeline has none). `schedules_run_due`, run by celery beat, claims the due rows with
SELECT ... FOR UPDATE SKIP LOCKED, starts one build for each and moves `next_run_at` past `now` in
the same transaction, so a server that was down for a day starts one build per schedule, and two
callers at once never start the same run twice. Times are UTC.
"""

import logging
from datetime import datetime

from croniter import croniter
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.core.errors import ApplicationError, ValidationFailed
from apps.process.language import PipelineError, TriggerEvent, compile_pipeline, trigger_matches
from apps.process.language.patterns import matches_any
from apps.process.models import Build, Pipeline, PipelineSchedule
from apps.process.services.builds import build_start

logger = logging.getLogger(__name__)

DEFAULT_BRANCH = "main"
SCHEDULE_ACTOR = "schedule"
PATTERN_CHARACTERS = frozenset("*?+[]\\!")


class ScheduleCannotStart(ApplicationError):
    code = "schedule_cannot_start"


def pipeline_triggers(pipeline: Pipeline) -> dict:
    """The normalised `on:` of the pipeline's current version; empty when it has none or cannot compile."""
    if pipeline.current_version is None:
        return {}
    try:
        plan = compile_pipeline(pipeline.current_version.yaml, filename=pipeline.slug)
    except PipelineError:
        return {}
    return plan["triggers"]


def cron_next(cron: str, after: datetime) -> datetime:
    return croniter(cron, after).get_next(datetime)


def cron_upcoming(cron: str, after: datetime, count: int) -> list[datetime]:
    runs = croniter(cron, after)
    return [runs.get_next(datetime) for _ in range(count)]


def schedule_branches(entry: dict) -> list[str]:
    """The branches a schedule entry builds: its literal `branches`, else the default branch."""
    patterns = entry.get("branches")
    if not patterns:
        return [DEFAULT_BRANCH]
    literal = [name for name in patterns if not PATTERN_CHARACTERS & set(name)]
    chosen = [name for name in dict.fromkeys(literal) if matches_any(name, patterns)]
    return chosen or [DEFAULT_BRANCH]


def _wanted_schedules(pipeline: Pipeline) -> list[tuple[str, str]]:
    if pipeline.is_archived:
        return []
    entries = pipeline_triggers(pipeline).get("schedule") or []
    pairs = [(entry["cron"], branch) for entry in entries for branch in schedule_branches(entry)]
    return list(dict.fromkeys(pairs))


@transaction.atomic
def schedules_sync(*, pipeline_id: int, now: datetime | None = None) -> list[PipelineSchedule]:
    """Make the pipeline's schedule rows match its current version; unchanged ones keep their next run."""
    now = now or timezone.now()
    pipeline = Pipeline.objects.select_related("current_version").get(pk=pipeline_id)
    wanted = _wanted_schedules(pipeline)
    existing = {(row.cron, row.branch): row for row in PipelineSchedule.objects.filter(pipeline=pipeline)}
    stale = [row.pk for key, row in existing.items() if key not in wanted]
    PipelineSchedule.objects.filter(pk__in=stale).delete()
    PipelineSchedule.objects.filter(pipeline=pipeline).update(last_error="")
    for cron, branch in wanted:
        if (cron, branch) not in existing:
            PipelineSchedule.objects.create(
                pipeline=pipeline, cron=cron, branch=branch, next_run_at=cron_next(cron, now)
            )
    return list(PipelineSchedule.objects.filter(pipeline=pipeline))


def schedule_list(pipeline: Pipeline) -> QuerySet[PipelineSchedule]:
    return PipelineSchedule.objects.filter(pipeline=pipeline).select_related("last_build")


def _due(now: datetime, limit: int) -> list[PipelineSchedule]:
    due = (
        PipelineSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(next_run_at__lte=now)
        .select_related("pipeline__current_version", "pipeline__project")
        .order_by("next_run_at", "id")
    )
    return list(due[:limit])


def schedules_run_due(*, now: datetime | None = None, limit: int = 100) -> list[PipelineSchedule]:
    """Start one build for every schedule due at `now`; returns the schedules it ran."""
    now = now or timezone.now()
    ran: list[PipelineSchedule] = []
    while True:
        with transaction.atomic():
            batch = _due(now, limit)
            for schedule in batch:
                schedule_fire(schedule, now=now)
        ran.extend(batch)
        if len(batch) < limit:
            return ran


def schedule_fire(schedule: PipelineSchedule, *, now: datetime) -> None:
    """Start the schedule's build (or record why it could not) and move its next run past `now`.
    Runs inside the transaction that claimed the row."""
    schedule.last_build, schedule.last_error = None, ""
    try:
        with transaction.atomic():
            schedule.last_build = _start(schedule)
    except (ApplicationError, PipelineError) as error:
        schedule.last_error = _describe(error)
    except Exception as error:
        logger.exception("schedule %s of %s could not start a build", schedule.cron, schedule.pipeline)
        schedule.last_error = f"internal error: {error}"
    schedule.last_run_at = now
    schedule.next_run_at = cron_next(schedule.cron, now)
    fields = ["last_run_at", "next_run_at", "last_error"] + (["last_build"] if schedule.last_build else [])
    schedule.save(update_fields=fields)


def schedule_event(schedule: PipelineSchedule) -> TriggerEvent:
    return TriggerEvent(event="schedule", ref=f"refs/heads/{schedule.branch}", actor=SCHEDULE_ACTOR)


def _start(schedule: PipelineSchedule) -> Build:
    pipeline = schedule.pipeline
    if pipeline.current_version is None:
        raise ScheduleCannotStart("the pipeline has no version")
    event = schedule_event(schedule)
    plan = compile_pipeline(pipeline.current_version.yaml, filename=pipeline.slug, trigger=event)
    matches, reason = trigger_matches(plan, event)
    if not matches:
        raise ScheduleCannotStart(reason)
    missing = [name for name, spec in plan["inputs"].items() if spec["required"] and spec["default"] is None]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise ScheduleCannotStart(f"a schedule cannot fill in required inputs without a default: {names}")
    return build_start(pipeline=pipeline, trigger=event)


def _describe(error: ApplicationError | PipelineError) -> str:
    if isinstance(error, PipelineError):
        return str(error)
    problems = error.problems if isinstance(error, ValidationFailed) else []
    return "\n".join([error.message, *(f"line {p['line']}: {p['message']}" for p in problems)])
