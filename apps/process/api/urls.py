"""REST routes of pipelines, their versions, YAML validation and builds, mounted under /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.core.api.schema import URL_SEGMENT
from apps.process.api.builds import BuildJobViewSet, BuildViewSet
from apps.process.api.remote import RemoteTriggerView
from apps.process.api.views import PipelineValidateView, PipelineVersionViewSet, PipelineViewSet

PIPELINES = rf"projects/(?P<project_slug>{URL_SEGMENT})/pipelines"
BUILDS = rf"{PIPELINES}/(?P<pipeline_slug>{URL_SEGMENT})/builds"

router = SimpleRouter()
router.register(PIPELINES, PipelineViewSet, basename="pipeline")
router.register(
    rf"{PIPELINES}/(?P<pipeline_slug>{URL_SEGMENT})/versions",
    PipelineVersionViewSet,
    basename="pipeline-version",
)
router.register(BUILDS, BuildViewSet, basename="build")
router.register(rf"{BUILDS}/(?P<build_number>[0-9]+)/jobs", BuildJobViewSet, basename="build-job")

urlpatterns = [
    path("pipelines/validate/", PipelineValidateView.as_view(), name="pipeline-validate"),
    path(
        "remote/<str:project_slug>/<str:pipeline_slug>/trigger",
        RemoteTriggerView.as_view(),
        name="remote-trigger",
    ),
    *router.urls,
]
