"""Periodic repair of lost work: jobs whose agent vanished or that no agent took in time."""

from celery import shared_task

from apps.dispatch.services import jobs_sweep


@shared_task(name="apps.dispatch.tasks.jobs_sweep", acks_late=True, ignore_result=True)
def jobs_sweep_task() -> int:
    return jobs_sweep()
