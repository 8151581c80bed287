"""Page routes: personal tokens, a project's bot tokens, a pipeline's webhook and deliveries."""

from django.urls import path

from apps.openapi import views

urlpatterns = [
    path("tokens/", views.token_list, name="token-list"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token-revoke"),
    path("projects/<str:slug>/tokens/", views.project_token_list, name="project-token-list"),
    path(
        "projects/<str:slug>/tokens/<int:token_id>/revoke/",
        views.project_token_revoke,
        name="project-token-revoke",
    ),
    path(
        "projects/<str:slug>/pipelines/<str:pipeline>/webhook/",
        views.pipeline_webhook,
        name="pipeline-webhook",
    ),
]
