"""Routes of the agent protocol's job endpoints, mounted at /api/agent/v1/."""

from django.urls import path

from apps.dispatch.api import agent_views

app_name = "dispatch-agent"

urlpatterns = [
    path("heartbeat", agent_views.heartbeat, name="heartbeat"),
    path("claim", agent_views.claim, name="claim"),
    path("jobs/<str:job_id>/steps/next", agent_views.step_next, name="step-next"),
    path("jobs/<str:job_id>/steps/progress", agent_views.step_progress, name="step-progress"),
    path("jobs/<str:job_id>/logs", agent_views.logs, name="logs"),
    path("jobs/<str:job_id>/finish", agent_views.finish, name="finish"),
]
