"""REST API of quality rules and gate checks, mounted under /api/v1/:

- `projects/{slug}/quality-rules/` and `.../{id}/`: members read, maintainers and owners write;
- `projects/{slug}/quality-rules/{id}/checks/`: every evaluation of a rule, newest first (cursor);
- `projects/{slug}/pipelines/{pipeline}/builds/{number}/gate-checks/`: a build's gate checks.

Non-members get 404; token scopes follow `apps.openapi.scopes` (reads `read`, writes `write`).
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER, URL_SEGMENT
from apps.core.choices import Role
from apps.process.selectors import pipeline_get
from apps.process.selectors_builds import build_get
from apps.quality import rules
from apps.quality.api.rule_serializers import (
    GateCheckSerializer,
    QualityRuleSerializer,
    QualityRuleWriteSerializer,
)
from apps.quality.filtersets import GateCheckFilterSet, QualityRuleFilterSet
from apps.quality.models import GateCheck, QualityRule
from apps.quality.selectors_rules import build_checks, rule_checks, rule_get, rule_list, with_stage_names

RULE_ID_PARAMETER = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Id of the quality rule.")
PIPELINE_PARAMETER = OpenApiParameter(
    "pipeline_slug", str, OpenApiParameter.PATH, description="Slug of the pipeline."
)
BUILD_PARAMETER = OpenApiParameter(
    "build_number", int, OpenApiParameter.PATH, description="Number of the build in its pipeline."
)
WRITERS = {action: Role.MAINTAINER for action in ("create", "update", "partial_update", "destroy")}


class GateCheckCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


@extend_schema(tags=["quality"], parameters=[PROJECT_SLUG_PARAMETER])
class QualityRuleViewSet(ProjectScopedMixin, viewsets.ModelViewSet):
    serializer_class = QualityRuleSerializer
    filterset_class = QualityRuleFilterSet
    queryset = QualityRule.objects.none()
    lookup_value_regex = r"[0-9]+"
    required_roles = WRITERS

    def get_queryset(self):
        if self.project is None:
            return QualityRule.objects.none()
        return rule_list(self.project)

    def get_object(self):
        return rule_get(self.project, self.kwargs["pk"])

    def _written(self, partial: bool = False) -> dict:
        serializer = QualityRuleWriteSerializer(data=self.request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _answer(self, rule, status_code=status.HTTP_200_OK) -> Response:
        return Response(QualityRuleSerializer(rule_get(self.project, rule.pk)).data, status=status_code)

    @extend_schema(request=QualityRuleWriteSerializer, responses={201: QualityRuleSerializer})
    def create(self, request, *args, **kwargs):
        rule = rules.rule_create(project=self.project, user=request.user, **self._written())
        return self._answer(rule, status.HTTP_201_CREATED)

    @extend_schema(request=QualityRuleWriteSerializer, responses=QualityRuleSerializer)
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        rule = rules.rule_update(rule=self.get_object(), user=request.user, **self._written(partial))
        return self._answer(rule)

    @extend_schema(request=QualityRuleWriteSerializer, responses=QualityRuleSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        rules.rule_delete(rule=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["quality"], parameters=[PROJECT_SLUG_PARAMETER, RULE_ID_PARAMETER])
class QualityRuleCheckViewSet(ProjectScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Every evaluation of one rule, newest first, paged by cursor."""

    serializer_class = GateCheckSerializer
    filterset_class = GateCheckFilterSet
    pagination_class = GateCheckCursorPagination
    queryset = GateCheck.objects.none()
    rule = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.rule = rule_get(self.project, kwargs["id"])

    def get_queryset(self):
        if self.rule is None:
            return GateCheck.objects.none()
        return rule_checks(self.rule)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(GateCheckSerializer(with_stage_names(page), many=True).data)


@extend_schema(tags=["quality"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_PARAMETER, BUILD_PARAMETER])
class BuildGateCheckViewSet(ProjectScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """The gate checks of one build, every attempt, in the order they happened."""

    serializer_class = GateCheckSerializer
    filterset_class = GateCheckFilterSet
    queryset = GateCheck.objects.none()
    pagination_class = None
    build = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.build = build_get(
            pipeline_get(self.project, kwargs["pipeline_slug"]), int(kwargs["build_number"])
        )

    def get_queryset(self):
        if self.build is None:
            return GateCheck.objects.none()
        return build_checks(self.build)

    def list(self, request, *args, **kwargs):
        found = with_stage_names(self.filter_queryset(self.get_queryset()))
        return Response(GateCheckSerializer(found, many=True).data)


PROJECT = rf"projects/(?P<project_slug>{URL_SEGMENT})"
BUILD = rf"{PROJECT}/pipelines/(?P<pipeline_slug>{URL_SEGMENT})/builds/(?P<build_number>[0-9]+)"

router = SimpleRouter()
router.register(rf"{PROJECT}/quality-rules", QualityRuleViewSet, basename="quality-rule")
router.register(
    rf"{PROJECT}/quality-rules/(?P<id>[0-9]+)/checks", QualityRuleCheckViewSet, basename="quality-rule-check"
)
router.register(rf"{BUILD}/gate-checks", BuildGateCheckViewSet, basename="build-gate-check")

urlpatterns = router.urls
