"""Routes of the agent protocol served by the environment app, mounted at /api/agent/v1/."""

from django.urls import path

from apps.environment.api.agent_views import AgentDownloadView, AgentRegisterView

app_name = "environment-agent"

urlpatterns = [
    path("register", AgentRegisterView.as_view(), name="register"),
    path("download", AgentDownloadView.as_view(), name="download"),
]
