"""The agent endpoints that need no agent secret: registration with a one-time token and the download."""

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.environment.agent_package import agent_package
from apps.environment.services import agent_register


class AgentRegisterSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=200)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    hostname = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    os = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    arch = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    labels = serializers.ListField(child=serializers.CharField(max_length=100), required=False, default=list)
    slots = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True, default=None
    )
    version = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class AgentRegisteredSerializer(serializers.Serializer):
    agent_id = serializers.CharField()
    secret = serializers.CharField()
    heartbeat_seconds = serializers.IntegerField()
    labels = serializers.ListField(child=serializers.CharField())
    slots = serializers.IntegerField()


class AgentRegisterView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["agent protocol"], request=AgentRegisterSerializer, responses={201: AgentRegisteredSerializer}
    )
    def post(self, request):
        serializer = AgentRegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        agent, secret = agent_register(**serializer.validated_data)
        body = {
            "agent_id": str(agent.pk),
            "secret": secret,
            "heartbeat_seconds": getattr(settings, "AGENT_HEARTBEAT_SECONDS", 5),
            "labels": agent.labels,
            "slots": agent.slots,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class AgentDownloadView(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["agent protocol"],
        responses={200: OpenApiResponse(OpenApiTypes.BINARY, description="devops_agent.py")},
    )
    def get(self, request):
        content, version, sha256 = agent_package()
        response = HttpResponse(content, content_type="text/x-python; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="devops_agent.py"'
        response["X-Agent-Version"] = version
        response["X-Agent-Sha256"] = sha256
        return response
