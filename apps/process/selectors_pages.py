"""Reads only pages need: the last build of each pipeline on a list."""

from django.db.models import OuterRef, Subquery

from apps.process.models import Build, Pipeline


def pipeline_last_builds(*, pipelines: list[Pipeline]) -> dict[int, Build]:
    """{pipeline id: its build with the highest number} for the given pipelines (already scoped)."""
    ids = [pipeline.pk for pipeline in pipelines]
    latest = Build.objects.filter(pipeline=OuterRef("pk")).order_by("-number").values("pk")[:1]
    build_ids = (
        Pipeline.objects.filter(pk__in=ids)
        .annotate(last_build=Subquery(latest))
        .values_list("last_build", flat=True)
    )
    builds = Build.objects.filter(pk__in=[pk for pk in build_ids if pk]).select_related("created_by")
    return {build.pipeline_id: build for build in builds}
