"""REST routes of tokens, webhook settings and deliveries (under /api/v1/), and the inbound URL."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from apps.core.api.schema import URL_SEGMENT
from apps.openapi.api.views import (
    ProjectTokenViewSet,
    TokenViewSet,
    WebhookDeliveryViewSet,
    WebhookReceiveView,
    WebhookSettingsViewSet,
)

PROJECT = rf"projects/(?P<project_slug>{URL_SEGMENT})"
PIPELINE = "projects/<str:project_slug>/pipelines/<str:pipeline_slug>/"

router = SimpleRouter()
router.register("tokens", TokenViewSet, basename="api-token")
router.register(rf"{PROJECT}/tokens", ProjectTokenViewSet, basename="project-token")
router.register(
    rf"{PROJECT}/pipelines/(?P<pipeline_slug>{URL_SEGMENT})/webhook-deliveries",
    WebhookDeliveryViewSet,
    basename="webhook-delivery",
)
webhook_settings = WebhookSettingsViewSet.as_view({"get": "retrieve", "put": "update"}, basename="webhook")

urlpatterns = [
    path(f"{PIPELINE}webhook/", webhook_settings, name="webhook-settings"),
    *router.urls,
]

# Mounted at /api/webhooks/ (outside the token-authenticated API and its schema).
inbound_urlpatterns = [
    path("<str:project_slug>/<str:pipeline_slug>/", WebhookReceiveView.as_view(), name="webhook-receive"),
]
