"""URL map: admin, sign-in, the REST API (with its schema and docs) and the pages."""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.core.api.views import api_not_found
from apps.openapi.api.urls import inbound_urlpatterns as inbound_webhook_urls
from apps.quality.api.urls import agent_urlpatterns as quality_agent_urls

api_v1 = [
    path("", include("apps.core.api.urls")),
    path("", include("apps.process.api.urls")),
    path("", include("apps.environment.api.urls")),
    path("", include("apps.ticket.api.urls")),
    path("", include("apps.openapi.api.urls")),
    path("", include("apps.notify.api.urls")),
    path("", include("apps.quality.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("api/v1/", include(api_v1)),
    path("api/agent/v1/", include("apps.environment.api.agent_urls")),
    path("api/agent/v1/", include("apps.dispatch.api.agent_urls")),
    path("api/agent/v1/", include(quality_agent_urls)),
    path("api/webhooks/", include(inbound_webhook_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("", include("apps.core.urls")),
    path("", include("apps.process.urls")),
    path("", include("apps.environment.urls")),
    path("", include("apps.ticket.urls")),
    path("", include("apps.openapi.urls")),
    path("", include("apps.notify.urls")),
    path("", include("apps.quality.urls")),
    # Keep last: any other /api/v1/ path answers with the API's JSON error body, not an HTML page.
    re_path(r"^api/v1/", api_not_found),
]
