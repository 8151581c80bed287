"""Page routes of the process app: a project's home, its pipelines and their builds."""

from django.urls import path

from apps.process import views, views_builds
from apps.process.views_triggers import remote_token_create

PIPELINE = "projects/<str:slug>/pipelines/<str:pipeline>/"
BUILD = f"{PIPELINE}builds/<int:number>/"

urlpatterns = [
    path("projects/<str:slug>/", views.project_detail, name="project-detail"),
    path("projects/<str:slug>/new-pipeline/", views.pipeline_create, name="pipeline-create"),
    path(PIPELINE, views.pipeline_detail, name="pipeline-detail"),
    path(f"{PIPELINE}edit/", views.pipeline_edit, name="pipeline-edit"),
    path(f"{PIPELINE}repository/", views.pipeline_repository, name="pipeline-repository"),
    path(f"{PIPELINE}archive/", views.pipeline_archive, name="pipeline-archive"),
    path(f"{PIPELINE}restore/", views.pipeline_restore, name="pipeline-restore"),
    path(f"{PIPELINE}versions/<int:number>/", views.version_detail, name="version-detail"),
    path(f"{PIPELINE}diff/", views.version_diff, name="version-diff"),
    path(f"{PIPELINE}remote-token/", remote_token_create, name="remote-token-create"),
    path(f"{PIPELINE}run/", views_builds.build_run, name="build-run"),
    path(BUILD, views_builds.build_detail, name="build-detail"),
    path(f"{BUILD}status/", views_builds.build_status, name="build-status"),
    path(f"{BUILD}cancel/", views_builds.build_cancel, name="build-cancel"),
    path(f"{BUILD}retry/", views_builds.build_retry, name="build-retry"),
    path(f"{BUILD}jobs/<str:key>/cancel/", views_builds.job_cancel, name="job-cancel"),
    path(f"{BUILD}stages/<int:stage>/review/", views_builds.build_review, name="build-review"),
    path(f"{BUILD}stages/<int:stage>/override/", views_builds.build_override, name="build-override"),
]
