"""Stage reviews: a stage with `check-in.reviews` waits until a listed reviewer approves or rejects.

One row per stage of a build attempt that asked for review, written when the stage starts
waiting. `reviewers` are the rendered names (users or `role:<role>`); `inputs` are the fields the
reviewer fills (shaped like `on.manual.inputs`), whose values become variables of the build.
"""

from django.conf import settings
from django.db import models


class ReviewStatus(models.TextChoices):
    WAITING = "waiting", "Waiting"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    TIMED_OUT = "timed_out", "Timed out"
    CANCELED = "canceled", "Canceled"


class StageReview(models.Model):
    build = models.ForeignKey("process.Build", on_delete=models.CASCADE, related_name="reviews")
    build_attempt = models.PositiveIntegerField(default=1)
    stage_index = models.PositiveIntegerField()
    reviewers = models.JSONField(default=list)
    description = models.TextField(blank=True)
    inputs = models.JSONField(default=dict)
    values = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.WAITING)
    comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    deadline = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["build", "build_attempt", "stage_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["build", "build_attempt", "stage_index"], name="review_per_stage_attempt"
            )
        ]

    def __str__(self):
        return f"review of stage {self.stage_index} of build {self.build_id}: {self.status}"
