"""The remote-trigger endpoint: start a pipeline by URL with its token, no session (so no CSRF)."""

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.process.models import Build
from apps.process.services.remote import RemoteTokenInvalid, remote_build_start

TOKEN_HEADER = "X-Devops-Token"

RemoteTriggerRequestSerializer = inline_serializer(
    "RemoteTriggerRequest",
    {
        "inputs": serializers.DictField(required=False, help_text="Values of the pipeline's manual inputs."),
        "variables": serializers.DictField(required=False, help_text="Variables overriding the YAML's."),
        "branch": serializers.CharField(required=False, help_text="Branch to build; main by default."),
    },
)
RemoteTriggerResponseSerializer = inline_serializer(
    "RemoteTriggerResponse",
    {
        "build": inline_serializer(
            "RemoteTriggerBuild", {"number": serializers.IntegerField(), "url": serializers.URLField()}
        )
    },
)


def build_page_url(request, build: Build) -> str:
    pipeline = build.pipeline
    names = {"slug": pipeline.project.slug, "pipeline": pipeline.slug, "number": build.number}
    return request.build_absolute_uri(reverse("build-detail", kwargs=names))


@extend_schema(
    tags=["pipelines"],
    auth=[],
    request=RemoteTriggerRequestSerializer,
    parameters=[
        OpenApiParameter(TOKEN_HEADER, str, OpenApiParameter.HEADER, description="The pipeline's token."),
        OpenApiParameter("token", str, OpenApiParameter.QUERY, description="The token (or use the header)."),
    ],
    responses={
        201: RemoteTriggerResponseSerializer,
        400: OpenApiResponse(description="Bad inputs, variables or branch; details list the problems."),
        401: OpenApiResponse(description="The token is missing or wrong."),
        403: OpenApiResponse(description="The pipeline's current version does not enable remote triggers."),
        409: OpenApiResponse(description="The pipeline is archived."),
    },
)
class RemoteTriggerView(APIView):
    """Start a build of a pipeline whose YAML has `on: remote: enabled`, with the pipeline's token."""

    authentication_classes = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request) -> str:
        return f'{TOKEN_HEADER} realm="remote-trigger"'

    def post(self, request, project_slug: str, pipeline_slug: str):
        token = request.headers.get(TOKEN_HEADER) or request.query_params.get("token", "")
        try:
            build = remote_build_start(
                project_slug=project_slug, pipeline_slug=pipeline_slug, token=token, body=request.data
            )
        except RemoteTokenInvalid as error:
            raise AuthenticationFailed(error.message) from error
        body = {"build": {"number": build.number, "url": build_page_url(request, build)}}
        return Response(body, status=status.HTTP_201_CREATED)
