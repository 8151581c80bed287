"""Follow-up events of the engine, emitted after the transaction that caused them commits, and
the concurrency groups that decide when a queued build may start."""

from django.db import transaction
from django.db.models import Q

from apps.dispatch.wakeup import notify_jobs_queued
from apps.process.choices import Status
from apps.process.models import Build
from apps.process.services.live import build_changed_on_commit

WAITING_IN_GROUP = frozenset({Status.QUEUED})
HOLDING_GROUP = frozenset({Status.PENDING, Status.RUNNING, Status.WAITING_REVIEW, Status.BLOCKED})


def emit_build_advance(build_id: int) -> None:
    """Ask the engine to move a build on once the current transaction commits."""
    from apps.process.tasks import build_advance_task

    transaction.on_commit(lambda: build_advance_task.delay(build_id))
    build_changed_on_commit(build_id)


def group_builds(build: Build):
    return Build.objects.filter(
        pipeline__project_id=build.pipeline.project_id, concurrency_group=build.concurrency_group
    ).exclude(id=build.id)


def concurrency_turn(build: Build) -> bool:
    """A queued build may start when no build of its group holds it and none queued before it.

    One query, so one snapshot: two workers advancing two queued builds at once cannot both see
    the group free (with two queries, the earlier build could start between them)."""
    ahead = Q(status__in=HOLDING_GROUP) | Q(status__in=WAITING_IN_GROUP, id__lt=build.id)
    return not group_builds(build).filter(ahead).exists()


def next_in_group(build: Build) -> Build | None:
    if not build.concurrency_group:
        return None
    return group_builds(build).filter(status__in=WAITING_IN_GROUP).order_by("id").first()


def after_advance(build: Build, *, queued_jobs: int, finished: bool) -> None:
    if queued_jobs:
        transaction.on_commit(lambda: notify_jobs_queued(queued_jobs))
    if finished:
        waiting = next_in_group(build)
        if waiting is not None:
            emit_build_advance(waiting.id)
