"""Page routes of the process app: a project's home and its pipelines."""

from django.urls import path

from apps.process import views

PIPELINE = "projects/<str:slug>/pipelines/<str:pipeline>/"

urlpatterns = [
    path("projects/<str:slug>/", views.project_detail, name="project-detail"),
    path("projects/<str:slug>/new-pipeline/", views.pipeline_create, name="pipeline-create"),
    path(PIPELINE, views.pipeline_detail, name="pipeline-detail"),
    path(f"{PIPELINE}edit/", views.pipeline_edit, name="pipeline-edit"),
    path(f"{PIPELINE}archive/", views.pipeline_archive, name="pipeline-archive"),
    path(f"{PIPELINE}restore/", views.pipeline_restore, name="pipeline-restore"),
    path(f"{PIPELINE}versions/<int:number>/", views.version_detail, name="version-detail"),
    path(f"{PIPELINE}diff/", views.version_diff, name="version-diff"),
]
