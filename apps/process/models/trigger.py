"""What starts a pipeline by itself: its cron schedules and the token of its remote-trigger URL.

Schedules mirror the `on: schedule` of the pipeline's current version (apps.process.services.schedules
keeps them in step); the remote token is stored as a sha256 digest, the plain value is shown once.
"""

from django.conf import settings
from django.db import models


class PipelineSchedule(models.Model):
    pipeline = models.ForeignKey("process.Pipeline", on_delete=models.CASCADE, related_name="schedules")
    cron = models.CharField(max_length=100)
    branch = models.CharField(max_length=255)
    next_run_at = models.DateTimeField(db_index=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_build = models.ForeignKey(
        "process.Build", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pipeline", "next_run_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "cron", "branch"], name="process_pipelineschedule_unique_cron"
            )
        ]

    def __str__(self) -> str:
        return f"{self.pipeline} {self.cron!r} on {self.branch}"


class RemoteTriggerToken(models.Model):
    pipeline = models.OneToOneField("process.Pipeline", on_delete=models.CASCADE, related_name="remote_token")
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.pipeline} remote token {self.hint}…"
