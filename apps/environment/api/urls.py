"""Routes of the environment REST API, mounted at /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.environment.api.views import AgentViewSet, NodeGroupViewSet, RegistrationTokenViewSet

app_name = "environment-api"

PROJECT = r"projects/(?P<project_slug>[a-z0-9][a-z0-9-]*)"

router = SimpleRouter()
router.register(rf"{PROJECT}/agents", AgentViewSet, basename="agent")
router.register(rf"{PROJECT}/node-groups", NodeGroupViewSet, basename="node-group")
router.register(rf"{PROJECT}/registration-tokens", RegistrationTokenViewSet, basename="registration-token")

urlpatterns = router.urls
