"""REST routes of projects and their members, mounted under /api/v1/."""

from rest_framework.routers import SimpleRouter

from apps.core.api.schema import URL_SEGMENT
from apps.core.api.views import MembershipViewSet, ProjectViewSet

router = SimpleRouter()
router.register("projects", ProjectViewSet, basename="project")
router.register(rf"projects/(?P<project_slug>{URL_SEGMENT})/members", MembershipViewSet, basename="member")

urlpatterns = router.urls
