"""Celery tasks of the engine: ids in, one service call, idempotent, acknowledged late."""

from celery import shared_task

from apps.process.services import engine, schedules


@shared_task(name="apps.process.tasks.build_advance", acks_late=True)
def build_advance_task(build_id: int) -> None:
    engine.build_advance(build_id)


@shared_task(name="apps.process.tasks.schedules_run_due", acks_late=True)
def schedules_run_due_task() -> int:
    return len(schedules.schedules_run_due())
