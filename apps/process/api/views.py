"""Pipeline, version and validation endpoints: declarations that call process services/selectors."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER, URL_SEGMENT
from apps.core.choices import Role
from apps.core.errors import NotFound, ValidationFailed
from apps.process import services
from apps.process.api.serializers import (
    PipelineSerializer,
    PipelineValidationSerializer,
    PipelineVersionDiffSerializer,
    PipelineVersionSerializer,
    PipelineYamlSerializer,
)
from apps.process.filtersets import PipelineFilterSet, PipelineVersionFilterSet
from apps.process.models import Pipeline, PipelineVersion
from apps.process.selectors import (
    pipeline_get,
    pipeline_list_for_user,
    pipeline_version_diff,
    pipeline_version_get,
    pipeline_version_list,
)

PIPELINE_SLUG_PARAMETER = OpenApiParameter(
    "pipeline_slug", str, OpenApiParameter.PATH, description="Slug of the pipeline."
)


def version_number(value, name: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationFailed(
            f"{name!r} must be a version number.", details={name: ["A number is required."]}
        ) from None
    if number < 1:
        raise ValidationFailed(f"{name!r} must be 1 or more.", details={name: ["Must be 1 or more."]})
    return number


@extend_schema(tags=["pipelines"], parameters=[PROJECT_SLUG_PARAMETER])
class PipelineViewSet(
    ProjectScopedMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = PipelineSerializer
    filterset_class = PipelineFilterSet
    queryset = Pipeline.objects.none()
    lookup_field = "slug"
    lookup_value_regex = URL_SEGMENT
    required_roles = {
        "create": Role.DEVELOPER,
        "update": Role.DEVELOPER,
        "partial_update": Role.DEVELOPER,
        "archive": Role.DEVELOPER,
        "restore": Role.DEVELOPER,
    }

    def get_queryset(self):
        if self.project is None:
            return Pipeline.objects.none()
        return pipeline_list_for_user(self.request.user, project=self.project)

    def get_object(self):
        return pipeline_get(self.project, self.kwargs["slug"])

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.pipeline_create(
            project=self.project,
            user=self.request.user,
            name=data["name"],
            yaml=data["current_yaml"],
            slug=data.get("slug"),
            description=data.get("description", ""),
            message=data.get("message", ""),
            repository_url=data.get("repository_url"),
            repository_credential=data.get("repository_credential"),
        )

    def perform_update(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.pipeline_update(
            pipeline=serializer.instance,
            user=self.request.user,
            name=data.get("name"),
            description=data.get("description"),
            yaml=data.get("current_yaml"),
            message=data.get("message", ""),
            repository_url=data.get("repository_url"),
            repository_credential=data.get("repository_credential"),
        )

    @extend_schema(request=None, responses=PipelineSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, *args, **kwargs):
        pipeline = services.pipeline_archive(pipeline=self.get_object(), user=request.user)
        return Response(self.get_serializer(pipeline).data)

    @extend_schema(request=None, responses=PipelineSerializer)
    @action(detail=True, methods=["post"])
    def restore(self, request, *args, **kwargs):
        pipeline = services.pipeline_restore(pipeline=self.get_object(), user=request.user)
        return Response(self.get_serializer(pipeline).data)


@extend_schema(tags=["pipeline versions"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER])
class PipelineVersionViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = PipelineVersionSerializer
    filterset_class = PipelineVersionFilterSet
    queryset = PipelineVersion.objects.none()
    lookup_field = "number"
    lookup_value_regex = URL_SEGMENT
    pipeline = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])

    def get_queryset(self):
        if self.pipeline is None:
            return PipelineVersion.objects.none()
        return pipeline_version_list(self.pipeline)

    def get_object(self):
        try:
            number = int(self.kwargs["number"])
        except ValueError:
            raise NotFound("Version not found.") from None
        return pipeline_version_get(self.pipeline, number)

    @extend_schema(
        parameters=[
            OpenApiParameter("from", int, required=True, description="Version number to diff from."),
            OpenApiParameter("to", int, required=True, description="Version number to diff to."),
        ],
        filters=False,
        responses=PipelineVersionDiffSerializer,
    )
    @action(detail=False, pagination_class=None, filterset_class=None)
    def diff(self, request, *args, **kwargs):
        first = pipeline_version_get(self.pipeline, version_number(request.query_params.get("from"), "from"))
        second = pipeline_version_get(self.pipeline, version_number(request.query_params.get("to"), "to"))
        return Response(
            {"from": first.number, "to": second.number, "diff": pipeline_version_diff(first, second)}
        )


class PipelineValidateView(APIView):
    @extend_schema(tags=["pipelines"], request=PipelineYamlSerializer, responses=PipelineValidationSerializer)
    def post(self, request):
        serializer = PipelineYamlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        problems = services.pipeline_yaml_check(yaml=serializer.validated_data["yaml"])
        return Response({"valid": not problems, "problems": problems})
