"""Celery task of the environment app: the periodic sweep that marks silent agents offline."""

from celery import shared_task
from django.utils import timezone

from apps.environment.services import agent_mark_offline


@shared_task(name="environment.agent_mark_offline", acks_late=True, ignore_result=True)
def agent_mark_offline_task() -> int:
    return agent_mark_offline(now=timezone.now())
