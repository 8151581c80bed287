"""Builds and their runs: the state the engine reads and writes.

A Build snapshots a PipelineVersion and stores its compiled Plan; StageRun, JobRun and StepRun
rows mirror the Plan's stages, jobs (matrix expanded) and steps with their statuses.
"""

from django.conf import settings
from django.db import models

from apps.process.choices import Status


class Build(models.Model):
    pipeline = models.ForeignKey("process.Pipeline", on_delete=models.CASCADE, related_name="builds")
    version = models.ForeignKey("process.PipelineVersion", on_delete=models.RESTRICT, related_name="builds")
    number = models.PositiveIntegerField()
    attempt = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.TextField(blank=True)
    plan = models.JSONField()
    trigger = models.JSONField(default=dict)
    inputs = models.JSONField(default=dict)
    variables = models.JSONField(default=dict)
    concurrency_group = models.CharField(max_length=255, blank=True, db_index=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cancel_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "number"], name="build_number_per_pipeline")
        ]
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.pipeline} #{self.number}"


class StageRun(models.Model):
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="stages")
    index = models.PositiveIntegerField()
    stage_id = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    is_finally = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["build", "index"], name="stage_index_per_build")]
        ordering = ["build", "index"]


class JobRun(models.Model):
    build = models.ForeignKey(Build, on_delete=models.CASCADE, related_name="jobs")
    stage = models.ForeignKey(StageRun, on_delete=models.CASCADE, related_name="jobs")
    key = models.CharField(max_length=120)
    job_id = models.CharField(max_length=100)
    name = models.CharField(max_length=300)
    matrix = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    reason = models.TextField(blank=True)
    attempt = models.PositiveIntegerField(default=1)
    lost_agent_retries = models.PositiveIntegerField(default=0)
    labels = models.JSONField(default=list)
    pool = models.CharField(max_length=100, blank=True)
    agent = models.ForeignKey(
        "environment.Agent", null=True, blank=True, on_delete=models.SET_NULL, related_name="job_runs"
    )
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    cancel_requested = models.BooleanField(default=False)
    outputs = models.JSONField(default=dict)
    runner = models.JSONField(default=dict)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["build", "key"], name="job_key_per_build")]
        indexes = [models.Index(fields=["status", "queued_at"], name="job_claim_order")]
        ordering = ["build", "id"]


class StepRun(models.Model):
    job = models.ForeignKey(JobRun, on_delete=models.CASCADE, related_name="steps")
    job_attempt = models.PositiveIntegerField(default=1)
    index = models.PositiveIntegerField()
    step_id = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=300)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    outcome = models.CharField(max_length=20, blank=True)
    conclusion = models.CharField(max_length=20, blank=True)
    attempt = models.PositiveIntegerField(default=0)
    exit_code = models.IntegerField(null=True, blank=True)
    outputs = models.JSONField(default=dict)
    env = models.JSONField(default=dict)
    path = models.JSONField(default=list)
    metrics = models.JSONField(default=dict)
    reason = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "job_attempt", "index"], name="step_index_per_job_attempt")
        ]
        ordering = ["job", "job_attempt", "index"]
