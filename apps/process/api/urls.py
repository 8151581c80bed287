"""REST routes of pipelines, their versions and YAML validation, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.core.api.schema import URL_SEGMENT
from apps.process.api.views import PipelineValidateView, PipelineVersionViewSet, PipelineViewSet

PIPELINES = rf"projects/(?P<project_slug>{URL_SEGMENT})/pipelines"

router = SimpleRouter()
router.register(PIPELINES, PipelineViewSet, basename="pipeline")
router.register(
    rf"{PIPELINES}/(?P<pipeline_slug>{URL_SEGMENT})/versions",
    PipelineVersionViewSet,
    basename="pipeline-version",
)

urlpatterns = [
    path("pipelines/validate/", PipelineValidateView.as_view(), name="pipeline-validate"),
    *router.urls,
]
