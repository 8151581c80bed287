"""Celery tasks of the engine: ids in, one service call, idempotent, acknowledged late."""

from celery import shared_task

from apps.process.services import engine


@shared_task(name="apps.process.tasks.build_advance", acks_late=True)
def build_advance_task(build_id: int) -> None:
    engine.build_advance(build_id)
