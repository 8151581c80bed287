"""Metrics over the API: a build's metrics, report uploads (JUnit, coverage), the agent's uploads.

`GET .../builds/{n}/metrics/` answers per job and per build; `POST .../builds/{n}/reports/` takes a
report as a multipart `file` or as the raw body (`type` and `job` as fields or query parameters)
and answers the metrics it gave. Both are scoped like the build endpoints: the caller's projects
only (404 elsewhere), `developer` to upload, token scopes `read` and `write`.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER
from apps.core.choices import Role
from apps.core.errors import PayloadTooLarge
from apps.dispatch.api.agent_views import agent_call
from apps.openapi.choices import Scope
from apps.process.selectors import pipeline_get
from apps.process.selectors_builds import build_get, job_get
from apps.quality.metrics import agent_report_upload, build_metric_summary, report_record
from apps.quality.reports import REPORT_MAX_BYTES, REPORT_TYPES, ReportError

PIPELINE_SLUG_PARAMETER = OpenApiParameter(
    "pipeline_slug", str, OpenApiParameter.PATH, description="Slug of the pipeline."
)
BUILD_NUMBER_PARAMETER = OpenApiParameter(
    "build_number", int, OpenApiParameter.PATH, description="Number of the build in its pipeline."
)
TYPE_PARAMETER = OpenApiParameter(
    "type", str, OpenApiParameter.QUERY, enum=list(REPORT_TYPES),
    description="Kind of report, for a raw body (a multipart upload may send it as a field).",
)
JOB_PARAMETER = OpenApiParameter(
    "job", str, OpenApiParameter.QUERY,
    description="Key of the job the report belongs to (default: the whole build).",
)


class ReportBodyParser(BaseParser):
    """A raw report body of any content type (XML), refused over REPORT_MAX_BYTES."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except (AttributeError, ValueError):
            length = 0
        content = stream.read(REPORT_MAX_BYTES + 1) if length <= REPORT_MAX_BYTES else b""
        if length > REPORT_MAX_BYTES or len(content) > REPORT_MAX_BYTES:
            raise PayloadTooLarge(f"The report is larger than {REPORT_MAX_BYTES} bytes.")
        return content


class JobMetricsSerializer(serializers.Serializer):
    key = serializers.CharField(allow_null=True, help_text="Job key; null for values posted for the build.")
    name = serializers.CharField(allow_null=True)
    values = serializers.DictField(child=serializers.JSONField(), help_text="Metric name -> value.")


class BuildMetricsSerializer(serializers.Serializer):
    values = serializers.DictField(
        child=serializers.JSONField(), help_text="One value per metric of the build (the last reported wins)."
    )
    jobs = JobMetricsSerializer(many=True)


class ReportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="The report (XML).")
    type = serializers.ChoiceField(choices=list(REPORT_TYPES))
    job = serializers.CharField(required=False, help_text="Key of the job the report belongs to.")


class ReportResultSerializer(serializers.Serializer):
    type = serializers.CharField()
    job = serializers.CharField(allow_null=True)
    metrics = serializers.DictField(child=serializers.JSONField(), help_text="The metrics stored.")


def report_content(request) -> tuple[bytes, dict]:
    """(the report's bytes, its fields) from a multipart upload or a raw body."""
    data = request.data
    fields = {name: request.query_params.get(name) for name in ("type", "job")}
    if isinstance(data, bytes):
        content = data
    else:
        upload = request.FILES.get("file")
        if upload is None:
            raise ReportError("send the report as the request body or as a multipart 'file'")
        if upload.size > REPORT_MAX_BYTES:
            raise PayloadTooLarge(f"The report is larger than {REPORT_MAX_BYTES} bytes.")
        content = upload.read()
        fields.update({name: data.get(name) for name in ("type", "job") if data.get(name)})
    return content, fields


@extend_schema(
    tags=["metrics"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER, BUILD_NUMBER_PARAMETER]
)
class BuildMetricViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    serializer_class = BuildMetricsSerializer
    pagination_class = None
    required_roles = {"report_upload": Role.DEVELOPER}
    token_scopes = {"metric_list": Scope.READ, "report_upload": Scope.WRITE}
    build = None

    def get_parsers(self):
        return [MultiPartParser(), ReportBodyParser()]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])
        self.build = build_get(pipeline, int(kwargs["build_number"]))

    @extend_schema(responses=BuildMetricsSerializer)
    def metric_list(self, request, *args, **kwargs):
        return Response(BuildMetricsSerializer(build_metric_summary(self.build.id)).data)

    @extend_schema(
        parameters=[TYPE_PARAMETER, JOB_PARAMETER],
        request={"multipart/form-data": ReportUploadSerializer, "application/xml": OpenApiTypes.BINARY},
        responses={201: ReportResultSerializer},
    )
    def report_upload(self, request, *args, **kwargs):
        content, fields = report_content(request)
        job = job_get(self.build, fields["job"]) if fields.get("job") else None
        metrics = report_record(
            build_id=self.build.id, job_id=job.id if job else None, kind=fields.get("type"), content=content
        )
        result = {"type": fields["type"].strip().lower(), "job": job.key if job else None, "metrics": metrics}
        return Response(ReportResultSerializer(result).data, status=status.HTTP_201_CREATED)


build_metrics_view = BuildMetricViewSet.as_view({"get": "metric_list"}, basename="build-metric")
build_reports_view = BuildMetricViewSet.as_view({"post": "report_upload"}, basename="build-report")


@agent_call
def agent_report(request, agent, body, job_id):
    """`POST /api/agent/v1/jobs/<id>/reports` {"type", "path", "content" (base64)} -> the metrics."""
    return agent_report_upload(agent=agent, job_id=job_id, body=body)
