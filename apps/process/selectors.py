"""Reads of pipelines and their versions, scoped to the projects the asking user may see."""

import difflib

from django.db.models import QuerySet

from apps.core.errors import NotFound
from apps.core.selectors import project_get_for_user, project_list_for_user
from apps.process.models import Pipeline, PipelineVersion


def pipeline_list_for_user(user, *, project=None) -> QuerySet[Pipeline]:
    pipelines = Pipeline.objects.select_related("project", "current_version", "created_by")
    if project is not None:
        return pipelines.filter(project=project)
    return pipelines.filter(project__in=project_list_for_user(user).values("pk"))


def pipeline_get(project, slug: str) -> Pipeline:
    pipeline = Pipeline.objects.select_related("current_version").filter(project=project, slug=slug).first()
    if pipeline is None:
        raise NotFound("Pipeline not found.")
    pipeline.project = project
    return pipeline


def pipeline_get_for_user(user, project_slug: str, pipeline_slug: str) -> Pipeline:
    return pipeline_get(project_get_for_user(user, project_slug), pipeline_slug)


def pipeline_version_list(pipeline: Pipeline) -> QuerySet[PipelineVersion]:
    return PipelineVersion.objects.filter(pipeline=pipeline).select_related("created_by").order_by("-number")


def pipeline_version_get(pipeline: Pipeline, number: int) -> PipelineVersion:
    version = pipeline_version_list(pipeline).filter(number=number).first()
    if version is None:
        raise NotFound(f"Version {number} of {pipeline.slug} not found.")
    return version


def _diff_lines(text: str) -> list[str]:
    return [f"{line}\n" for line in text.splitlines()]


def pipeline_version_diff(a: PipelineVersion, b: PipelineVersion) -> str:
    return "".join(
        difflib.unified_diff(
            _diff_lines(a.yaml),
            _diff_lines(b.yaml),
            fromfile=f"{a.pipeline.slug} v{a.number}",
            tofile=f"{b.pipeline.slug} v{b.number}",
        )
    )
