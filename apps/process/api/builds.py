"""Build endpoints: trigger, list, detail, cancel and retry, approve / reject a stage's review and
override its blocked gate; a build's jobs, their cancel and logs.

Declarations that parse input, call one process service or selector and shape the answer.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import CursorPagination
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER
from apps.core.choices import Role
from apps.log.downloads import ARCHIVE_FORMATS, build_archive_chunks, job_text_bytes, streaming_response
from apps.log.selectors import log_search
from apps.process.api.build_serializers import (
    BuildDetailSerializer,
    BuildLogDownloadQuerySerializer,
    BuildLogSearchQuerySerializer,
    BuildLogSearchSerializer,
    BuildRetrySerializer,
    BuildSerializer,
    BuildTriggerSerializer,
    GateOverrideSerializer,
    JobRunSerializer,
    LogDownloadQuerySerializer,
    LogPageSerializer,
    LogQuerySerializer,
    LogSearchQuerySerializer,
    LogSearchSerializer,
    ReviewDecisionSerializer,
)
from apps.process.api.views import PIPELINE_SLUG_PARAMETER
from apps.process.filtersets import BuildFilterSet
from apps.process.models import Build, JobRun
from apps.process.selectors import pipeline_get
from apps.process.selectors_builds import (
    build_get,
    build_jobs,
    build_list,
    build_log_targets,
    build_with_runs,
    hand_trigger,
    job_get,
    job_log_page,
    job_log_target,
)
from apps.process.services.builds import build_cancel, build_retry, build_start, job_cancel
from apps.process.services.stage_checks import gate_override, review_decide

STAGE_INDEX_PARAMETER = OpenApiParameter(
    "stage_index", int, OpenApiParameter.PATH, description="Index of the stage in the build (from 0)."
)
BUILD_NUMBER_PARAMETER = OpenApiParameter(
    "build_number", int, OpenApiParameter.PATH, description="Number of the build in its pipeline."
)


class BuildCursorPagination(CursorPagination):
    ordering = "-number"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ZipRenderer(BaseRenderer):
    """Lets `?format=zip` through DRF's format negotiation; the view streams its own bytes."""

    media_type = ARCHIVE_FORMATS["zip"]
    format = "zip"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return JSONRenderer().render(data) if not isinstance(data, bytes) else data


class TarGzRenderer(ZipRenderer):
    media_type = ARCHIVE_FORMATS["tar.gz"]
    format = "tar.gz"


def validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


@extend_schema(tags=["builds"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER])
class BuildViewSet(ProjectScopedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = BuildSerializer
    filterset_class = BuildFilterSet
    pagination_class = BuildCursorPagination
    queryset = Build.objects.none()
    lookup_field = "number"
    lookup_value_regex = r"[0-9]+"
    required_roles = {"create": Role.DEVELOPER, "cancel": Role.DEVELOPER, "retry": Role.DEVELOPER}
    pipeline = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])

    def get_serializer_class(self):
        return BuildSerializer if self.action == "list" else BuildDetailSerializer

    def get_queryset(self):
        if self.pipeline is None:
            return Build.objects.none()
        return build_list(self.pipeline)

    def get_object(self):
        return build_get(self.pipeline, int(self.kwargs["number"]))

    def detail_response(self, build: Build, status_code: int = status.HTTP_200_OK) -> Response:
        return Response(BuildDetailSerializer(build_with_runs(build)).data, status=status_code)

    def retrieve(self, request, *args, **kwargs):
        return self.detail_response(self.get_object())

    @extend_schema(request=BuildTriggerSerializer, responses={201: BuildDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = validated(BuildTriggerSerializer, request.data)
        build = build_start(
            pipeline=self.pipeline,
            user=request.user,
            trigger=hand_trigger(event="api", user=request.user, branch=data["branch"], sha=data["sha"]),
            inputs=data["inputs"],
            variables=data["variables"],
        )
        return self.detail_response(build_get(self.pipeline, build.number), status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=BuildDetailSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        build = build_cancel(build=self.get_object(), user=request.user)
        return self.detail_response(build)

    @extend_schema(request=BuildRetrySerializer, responses=BuildDetailSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, *args, **kwargs):
        data = validated(BuildRetrySerializer, request.data)
        build = build_retry(build=self.get_object(), user=request.user, only_failed=data["only_failed"])
        return self.detail_response(build)

    @extend_schema(
        parameters=[STAGE_INDEX_PARAMETER], request=ReviewDecisionSerializer, responses=BuildDetailSerializer
    )
    @action(detail=True, methods=["post"], url_path=r"stages/(?P<stage_index>[0-9]+)/approve")
    def approve(self, request, *args, **kwargs):
        return self.review(request, approve=True)

    @extend_schema(
        parameters=[STAGE_INDEX_PARAMETER], request=ReviewDecisionSerializer, responses=BuildDetailSerializer
    )
    @action(detail=True, methods=["post"], url_path=r"stages/(?P<stage_index>[0-9]+)/reject")
    def reject(self, request, *args, **kwargs):
        return self.review(request, approve=False)

    def review(self, request, *, approve: bool) -> Response:
        data = validated(ReviewDecisionSerializer, request.data)
        build = self.get_object()
        review_decide(
            build=build,
            stage_index=int(self.kwargs["stage_index"]),
            user=request.user,
            approve=approve,
            comment=data["comment"],
            values=data["values"],
        )
        return self.detail_response(build_get(self.pipeline, build.number))

    @extend_schema(
        parameters=[STAGE_INDEX_PARAMETER], request=GateOverrideSerializer, responses=BuildDetailSerializer
    )
    @action(detail=True, methods=["post"], url_path=r"stages/(?P<stage_index>[0-9]+)/override")
    def override(self, request, *args, **kwargs):
        data = validated(GateOverrideSerializer, request.data)
        build = self.get_object()
        gate_override(
            build=build,
            stage_index=int(self.kwargs["stage_index"]),
            user=request.user,
            comment=data["comment"],
        )
        return self.detail_response(build_get(self.pipeline, build.number))

    @extend_schema(parameters=[BuildLogSearchQuerySerializer], responses=BuildLogSearchSerializer)
    @action(detail=True, methods=["get"], url_path="logs/search")
    def logs_search(self, request, *args, **kwargs):
        query = validated(BuildLogSearchQuerySerializer, request.query_params)
        targets = build_log_targets(self.get_object())
        found = log_search(targets=targets, query=query["q"], regex=query["regex"])
        return Response(BuildLogSearchSerializer(found).data)

    @extend_schema(
        parameters=[BuildLogDownloadQuerySerializer],
        responses={(200, media): OpenApiResponse(OpenApiTypes.BINARY) for media in ARCHIVE_FORMATS.values()},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="logs/download",
        renderer_classes=[JSONRenderer, ZipRenderer, TarGzRenderer],
    )
    def logs_download(self, request, *args, **kwargs):
        fmt = validated(BuildLogDownloadQuerySerializer, request.query_params)["format"]
        build = self.get_object()
        entries = [(f"{target.label}.txt", target.job, target.attempt) for target in build_log_targets(build)]
        return streaming_response(
            request,
            build_archive_chunks(entries=entries, fmt=fmt),
            filename=f"{self.pipeline.slug}-{build.number}-logs.{fmt}",
            content_type=ARCHIVE_FORMATS[fmt],
        )


@extend_schema(
    tags=["builds"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER, BUILD_NUMBER_PARAMETER]
)
class BuildJobViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    serializer_class = JobRunSerializer
    queryset = JobRun.objects.none()
    pagination_class = None
    lookup_field = "key"
    lookup_value_regex = r"[^/]+"
    required_roles = {"cancel": Role.DEVELOPER}
    build = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])
        self.build = build_get(pipeline, int(kwargs["build_number"]))

    def get_object(self):
        return job_get(self.build, self.kwargs["key"])

    def list(self, request, *args, **kwargs):
        return Response(JobRunSerializer(build_jobs(self.build), many=True).data)

    def retrieve(self, request, *args, **kwargs):
        return Response(JobRunSerializer(self.get_object()).data)

    @extend_schema(request=None, responses=JobRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, *args, **kwargs):
        job = job_cancel(job=self.get_object(), user=request.user)
        return Response(JobRunSerializer(job_get(self.build, job.key)).data)

    @extend_schema(parameters=[LogQuerySerializer], responses=LogPageSerializer)
    @action(detail=True, methods=["get"])
    def logs(self, request, *args, **kwargs):
        query = validated(LogQuerySerializer, request.query_params)
        page = job_log_page(
            self.get_object(), attempt=query.get("attempt"), after=query["after"], limit=query["limit"]
        )
        return Response(LogPageSerializer(page).data)

    @extend_schema(parameters=[LogSearchQuerySerializer], responses=LogSearchSerializer)
    @action(detail=True, methods=["get"], url_path="logs/search")
    def logs_search(self, request, *args, **kwargs):
        query = validated(LogSearchQuerySerializer, request.query_params)
        target = job_log_target(self.get_object(), query.get("attempt"), query["after"])
        found = log_search(targets=[target], query=query["q"], regex=query["regex"])
        return Response(LogSearchSerializer(found).data)

    @extend_schema(
        parameters=[LogDownloadQuerySerializer],
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="The raw log.")},
    )
    @action(detail=True, methods=["get"], url_path="logs/download")
    def logs_download(self, request, *args, **kwargs):
        query = validated(LogDownloadQuerySerializer, request.query_params)
        target = job_log_target(self.get_object(), query.get("attempt"))
        return streaming_response(
            request,
            job_text_bytes(job=target.job, attempt=target.attempt),
            filename=f"{self.build.pipeline.slug}-{self.build.number}-{target.job.key}.txt",
            content_type="text/plain; charset=utf-8",
        )
