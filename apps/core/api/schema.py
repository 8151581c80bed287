"""OpenAPI pieces shared by the project-scoped endpoints."""

from drf_spectacular.utils import OpenApiParameter

URL_SEGMENT = r"[^/.]+"

PROJECT_SLUG_PARAMETER = OpenApiParameter(
    "project_slug", str, OpenApiParameter.PATH, description="Slug of the project."
)
