"""Statuses shared by builds, stages, jobs and steps: the engine's vocabulary as Django choices."""
from django.db import models

from apps.process.engine import states


class Status(models.TextChoices):
    PENDING = states.PENDING
    QUEUED = states.QUEUED
    RUNNING = states.RUNNING
    SUCCEEDED = states.SUCCEEDED
    FAILED = states.FAILED
    CANCELED = states.CANCELED
    SKIPPED = states.SKIPPED
    TIMED_OUT = states.TIMED_OUT
    WAITING_REVIEW = states.WAITING_REVIEW
    BLOCKED = states.BLOCKED


TERMINAL_STATUSES = states.TERMINAL
ACTIVE_STATUSES = frozenset(
    {Status.PENDING, Status.QUEUED, Status.RUNNING, Status.WAITING_REVIEW, Status.BLOCKED}
)
