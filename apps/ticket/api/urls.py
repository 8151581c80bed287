"""Routes of the credentials REST API, mounted at /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.ticket.api.views import CredentialViewSet

app_name = "ticket-api"

PROJECT = r"projects/(?P<project_slug>[a-z0-9][a-z0-9-]*)"

router = SimpleRouter()
router.register(rf"{PROJECT}/credentials", CredentialViewSet, basename="credential")

urlpatterns = router.urls
