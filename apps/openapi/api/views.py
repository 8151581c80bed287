"""Token, webhook-settings and delivery endpoints, and the inbound webhook URL Git hosts call."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER
from apps.core.choices import Role
from apps.core.errors import NotFound
from apps.openapi import selectors, services
from apps.openapi.api.serializers import (
    TokenCreatedSerializer,
    TokenSerializer,
    WebhookDeliverySerializer,
    WebhookReceiptSerializer,
    WebhookSettingsSerializer,
)
from apps.openapi.choices import DeliveryOutcome
from apps.openapi.models import ApiToken, WebhookDelivery
from apps.openapi.webhooks.services import SignatureInvalid, webhook_receive, webhook_settings_update
from apps.process.api.views import PIPELINE_SLUG_PARAMETER
from apps.process.selectors import pipeline_get


def created(token: ApiToken, plaintext: str) -> Response:
    token.token = plaintext
    return Response(TokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class TokenViewSetBase(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = TokenSerializer
    queryset = ApiToken.objects.none()
    lookup_value_regex = r"[0-9]+"

    @extend_schema(request=TokenSerializer, responses={201: TokenCreatedSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return created(*self.token_create(serializer.validated_data))

    @extend_schema(description="Revoke the token: the next request with it is refused.")
    def destroy(self, request, *args, **kwargs):
        services.token_revoke(token=self.get_object(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["tokens"])
class TokenViewSet(TokenViewSetBase):
    """The caller's personal access tokens."""

    def get_queryset(self):
        return selectors.token_list_for_user(self.request.user)

    def get_object(self):
        return selectors.token_get_for_user(self.request.user, self.kwargs["pk"])

    def token_create(self, data):
        return services.token_create(user=self.request.user, **data)


@extend_schema(tags=["tokens"], parameters=[PROJECT_SLUG_PARAMETER])
class ProjectTokenViewSet(ProjectScopedMixin, TokenViewSetBase):
    """A project's bot tokens (maintainers and owners)."""

    required_roles = {action: Role.MAINTAINER for action in ("list", "retrieve", "create", "destroy")}

    def get_queryset(self):
        if self.project is None:
            return ApiToken.objects.none()
        return selectors.project_token_list(project=self.project, user=self.request.user)

    def get_object(self):
        return selectors.project_token_get(
            project=self.project, user=self.request.user, token_id=self.kwargs["pk"]
        )

    def token_create(self, data):
        return services.project_token_create(project=self.project, user=self.request.user, **data)


def webhook_url(request, pipeline) -> str:
    names = {"project_slug": pipeline.project.slug, "pipeline_slug": pipeline.slug}
    return request.build_absolute_uri(reverse("webhook-receive", kwargs=names))


@extend_schema(tags=["webhooks"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER])
class WebhookSettingsViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    """The pipeline's inbound webhook: its URL, repository and secret (maintainers and owners)."""

    serializer_class = WebhookSettingsSerializer
    pagination_class = None
    required_roles = {"retrieve": Role.MAINTAINER, "update": Role.MAINTAINER}

    def settings_body(self, pipeline, row, secret=None) -> dict:
        return {
            "url": webhook_url(self.request, pipeline),
            "repository_url": row.repository_url,
            "secret_hint": row.secret_hint,
            "secret": secret,
        }

    def retrieve(self, request, *args, **kwargs):
        pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])
        row = selectors.webhook_settings_get(pipeline)
        if row is None:
            raise NotFound("No webhook is set up for this pipeline: PUT to create one.")
        return Response(WebhookSettingsSerializer(self.settings_body(pipeline, row)).data)

    @extend_schema(description="Create the webhook (a new secret is returned once) or change it.")
    def update(self, request, *args, **kwargs):
        pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])
        serializer = WebhookSettingsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        row, secret = webhook_settings_update(
            pipeline=pipeline,
            user=request.user,
            repository_url=data.get("repository_url"),
            regenerate=data["regenerate_secret"],
        )
        return Response(WebhookSettingsSerializer(self.settings_body(pipeline, row, secret)).data)


@extend_schema(tags=["webhooks"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER])
class WebhookDeliveryViewSet(ProjectScopedMixin, viewsets.ReadOnlyModelViewSet):
    """What the pipeline's webhook received, newest first, with why each did or did not build."""

    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    lookup_value_regex = r"[0-9]+"
    pipeline = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])

    def get_queryset(self):
        if self.pipeline is None:
            return WebhookDelivery.objects.none()
        return selectors.delivery_list(self.pipeline)

    def get_object(self):
        pk = self.kwargs["pk"]
        delivery = self.get_queryset().filter(id=int(pk) if str(pk).isdigit() else -1).first()
        if delivery is None:
            raise NotFound("Delivery not found.")
        return delivery


STATUS_BY_OUTCOME = {DeliveryOutcome.STARTED: status.HTTP_201_CREATED}


@extend_schema(exclude=True)
class WebhookReceiveView(APIView):
    """The URL Git hosts post their events to; they prove themselves by signature, not by login."""

    authentication_classes = []
    permission_classes = [AllowAny]
    parser_classes = []

    def get_authenticate_header(self, request) -> str:
        return 'Signature realm="webhook"'

    def post(self, request, project_slug: str, pipeline_slug: str):
        try:
            result = webhook_receive(
                project_slug=project_slug,
                pipeline_slug=pipeline_slug,
                headers=request.headers,
                body=request.body,
            )
        except SignatureInvalid as error:
            raise AuthenticationFailed(error.message) from error
        delivery = result.delivery
        body = {
            "outcome": delivery.outcome,
            "reason": delivery.reason,
            "duplicate": result.duplicate,
            "build_number": delivery.build.number if delivery.build_id else None,
        }
        code = status.HTTP_200_OK if result.duplicate else STATUS_BY_OUTCOME.get(delivery.outcome, 202)
        return Response(WebhookReceiptSerializer(body).data, status=code)
