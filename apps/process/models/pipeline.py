"""A pipeline and its immutable, numbered YAML versions."""

from django.conf import settings
from django.db import models

from apps.core.validators import slug_validator


class Pipeline(models.Model):
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="pipelines")
    slug = models.CharField(max_length=63, validators=[slug_validator])
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    current_version = models.ForeignKey(
        "process.PipelineVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The repository `checkout: self` clones when the trigger names none (webhooks name theirs), and
    # the name of the project credential (own or shared) it is cloned with.
    repository_url = models.CharField(max_length=500, blank=True)
    repository_credential = models.CharField(max_length=100, blank=True)
    is_archived = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["project", "slug"], name="process_pipeline_unique_slug")
        ]

    def __str__(self):
        return f"{self.project_id}/{self.slug}"

    @property
    def current_yaml(self) -> str:
        return self.current_version.yaml if self.current_version else ""


class PipelineVersion(models.Model):
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    yaml = models.TextField()
    sha256 = models.CharField(max_length=64)
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pipeline", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "number"], name="process_pipelineversion_unique_number"
            )
        ]

    def __str__(self):
        return f"{self.pipeline} v{self.number}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("A pipeline version is immutable; save a new version instead.")
        super().save(*args, **kwargs)
