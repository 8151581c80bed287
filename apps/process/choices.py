"""Statuses shared by builds, stages, jobs and steps (the language's vocabulary)."""

from django.db import models


class Status(models.TextChoices):
    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"
    SKIPPED = "skipped"
    TIMED_OUT = "timed_out"
    WAITING_REVIEW = "waiting_review"
    BLOCKED = "blocked"


TERMINAL_STATUSES = frozenset(
    {Status.SUCCEEDED, Status.FAILED, Status.CANCELED, Status.SKIPPED, Status.TIMED_OUT}
)
ACTIVE_STATUSES = frozenset(
    {Status.PENDING, Status.QUEUED, Status.RUNNING, Status.WAITING_REVIEW, Status.BLOCKED}
)
