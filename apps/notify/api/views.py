"""REST API of notifications under /api/v1/: a pipeline's notification settings and deliveries
(maintainers and owners; non-members get 404) and the caller's own subscriptions."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.response import Response

from apps.core.api.mixins import ProjectScopedMixin
from apps.core.api.schema import PROJECT_SLUG_PARAMETER
from apps.core.choices import Role
from apps.core.selectors import project_get_for_user
from apps.notify import selectors, services
from apps.notify.api.serializers import (
    DeliveryDetailSerializer,
    DeliverySerializer,
    NotificationSettingSerializer,
    SubscriptionCreateSerializer,
    SubscriptionSerializer,
    SubscriptionUpdateSerializer,
)
from apps.notify.models import Delivery, PipelineNotification, Subscription
from apps.process.api.views import PIPELINE_SLUG_PARAMETER
from apps.process.selectors import pipeline_get

MANAGER_ACTIONS = ("list", "retrieve", "create", "update", "partial_update", "destroy")


class PipelineScopedViewSet(ProjectScopedMixin, viewsets.GenericViewSet):
    lookup_value_regex = r"[0-9]+"
    required_roles = {action: Role.MAINTAINER for action in MANAGER_ACTIONS}
    pipeline = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.pipeline = pipeline_get(self.project, kwargs["pipeline_slug"])


@extend_schema(tags=["notifications"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER])
class NotificationSettingViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, PipelineScopedViewSet
):
    serializer_class = NotificationSettingSerializer
    queryset = PipelineNotification.objects.none()

    def get_queryset(self):
        if self.pipeline is None:
            return PipelineNotification.objects.none()
        return selectors.notification_setting_list(self.pipeline)

    def get_object(self):
        return selectors.notification_setting_get(self.pipeline, self.kwargs["pk"])

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        setting = services.notification_setting_create(
            pipeline=self.pipeline, user=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(setting).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        setting = self.get_object()
        serializer = self.get_serializer(setting, data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        setting = services.notification_setting_update(
            setting=setting, user=request.user, **serializer.validated_data
        )
        return Response(self.get_serializer(setting).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def perform_destroy(self, instance):
        services.notification_setting_delete(setting=instance, user=self.request.user)


@extend_schema(tags=["notifications"], parameters=[PROJECT_SLUG_PARAMETER, PIPELINE_SLUG_PARAMETER])
class NotificationDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PipelineScopedViewSet):
    queryset = Delivery.objects.none()

    def get_serializer_class(self):
        return DeliveryDetailSerializer if self.action == "retrieve" else DeliverySerializer

    def get_queryset(self):
        if self.pipeline is None:
            return Delivery.objects.none()
        return selectors.delivery_list(self.pipeline)

    def get_object(self):
        return selectors.delivery_get(self.pipeline, self.kwargs["pk"])


@extend_schema(tags=["notifications"])
class SubscriptionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    serializer_class = SubscriptionSerializer
    queryset = Subscription.objects.none()
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return selectors.subscription_list_for_user(self.request.user)

    def get_object(self):
        return selectors.subscription_get_for_user(self.request.user, self.kwargs["pk"])

    @extend_schema(request=SubscriptionCreateSerializer, responses={201: SubscriptionSerializer})
    def create(self, request, *args, **kwargs):
        serializer = SubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        project = project_get_for_user(request.user, data["project"])
        pipeline = pipeline_get(project, data["pipeline"]) if data["pipeline"] else None
        subscription = services.subscription_save(
            user=request.user, project=project, pipeline=pipeline, events=data["events"]
        )
        return Response(SubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def update(self, request, *args, **kwargs):
        serializer = SubscriptionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.subscription_update(
            subscription=self.get_object(), user=request.user, **serializer.validated_data
        )
        return Response(SubscriptionSerializer(subscription).data)

    @extend_schema(request=SubscriptionUpdateSerializer, responses=SubscriptionSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, **kwargs)

    def perform_destroy(self, instance):
        services.subscription_delete(subscription=instance, user=self.request.user)
