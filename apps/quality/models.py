"""Metrics reported by builds, the quality rules that judge them, and every gate check.

A `Metric` is one number (or bool/string) a build's job reported. A `QualityRule` is a set of
indicators (`metric op threshold` of a data type) attached to pipelines at a control point: a
stage's check-in or check-out (by stage id or name), or a gate named in the YAML. A `GateCheck`
records one evaluation of one gate (from the YAML or a rule) at one control point of one build
attempt: the values seen, the result and, for a blocked gate, who overrode it or when it timed out.
"""

from django.conf import settings
from django.db import models

from apps.quality.choices import ControlPoint, FailAction, GateResult, MetricSource


class Metric(models.Model):
    build = models.ForeignKey("process.Build", on_delete=models.CASCADE, related_name="metrics")
    job = models.ForeignKey(
        "process.JobRun", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    name = models.CharField(max_length=200)
    value = models.JSONField()
    source = models.CharField(max_length=16, choices=MetricSource.choices, default=MetricSource.STEP)
    reported_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["build", "name", "reported_at"]
        constraints = [
            models.UniqueConstraint(fields=["build", "job", "name"], name="quality_metric_per_job")
        ]
        indexes = [models.Index(fields=["name", "build"], name="quality_metric_name")]

    def __str__(self):
        return f"{self.name}={self.value}"


class QualityRule(models.Model):
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="quality_rules")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    indicators = models.JSONField(default=list)  # [{"metric", "operator", "threshold", "type"}]
    pipelines = models.ManyToManyField("process.Pipeline", blank=True, related_name="quality_rules")
    control_point = models.CharField(
        max_length=16, choices=ControlPoint.choices, default=ControlPoint.CHECK_OUT
    )
    stage = models.CharField(max_length=100, blank=True)  # stage id or name, for check-in / check-out
    gate = models.CharField(max_length=100, blank=True)  # a YAML gate's name, for control point "gate"
    action = models.CharField(max_length=8, choices=FailAction.choices, default=FailAction.FAIL)
    gatekeepers = models.JSONField(default=list)  # user names or "role:<role>"
    timeout_minutes = models.PositiveIntegerField(default=24 * 60)
    enabled = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="quality_rule_unique_name")]

    def __str__(self):
        return f"{self.project_id}/{self.name}"


class GateCheck(models.Model):
    build = models.ForeignKey("process.Build", on_delete=models.CASCADE, related_name="gate_checks")
    build_attempt = models.PositiveIntegerField(default=1)
    stage_index = models.PositiveIntegerField()
    control_point = models.CharField(max_length=16, choices=ControlPoint.choices)
    rule = models.ForeignKey(
        QualityRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="checks"
    )
    gate_name = models.CharField(max_length=100)
    indicators = models.JSONField(default=list)  # each indicator with the value seen and its verdict
    result = models.CharField(max_length=16, choices=GateResult.choices)
    reason = models.TextField(blank=True)
    gatekeepers = models.JSONField(default=list)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    comment = models.TextField(blank=True)
    checked_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField(null=True, blank=True)  # of a blocked gate
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["build", "build_attempt", "stage_index", "id"]
        indexes = [models.Index(fields=["build", "build_attempt", "stage_index"], name="quality_check_stage")]

    def __str__(self):
        return f"{self.gate_name}: {self.result}"
