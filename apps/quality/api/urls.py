"""REST routes of the quality app, mounted under /api/v1/ (and the agent's, under /api/agent/v1/)."""

from django.urls import path

from apps.quality.api import metrics
from apps.quality.api import rules as quality_rules

BUILD = "projects/<str:project_slug>/pipelines/<str:pipeline_slug>/builds/<int:build_number>/"

urlpatterns = [
    path(f"{BUILD}metrics/", metrics.build_metrics_view, name="build-metrics"),
    path(f"{BUILD}reports/", metrics.build_reports_view, name="build-reports"),
    *quality_rules.urlpatterns,
]

# Mounted at /api/agent/v1/ beside apps.dispatch.api.agent_urls (docs/agent-protocol.md).
agent_urlpatterns = [
    path("jobs/<str:job_id>/reports", metrics.agent_report, name="agent-job-reports"),
]
