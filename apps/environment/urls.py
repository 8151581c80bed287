"""Page routes of a project's build machines and node groups."""

from django.urls import path

from apps.environment import views

urlpatterns = [
    path("projects/<str:slug>/agents/", views.agent_list, name="agent-list"),
    path("projects/<str:slug>/agents/add/", views.agent_add, name="agent-add"),
    path("projects/<str:slug>/agents/<int:agent_id>/", views.agent_detail, name="agent-detail"),
    path("projects/<str:slug>/agents/<int:agent_id>/delete/", views.agent_delete, name="agent-delete"),
    path(
        "projects/<str:slug>/registration-tokens/<int:token_id>/delete/",
        views.registration_token_delete,
        name="registration-token-delete",
    ),
    path("projects/<str:slug>/node-groups/", views.node_group_list, name="node-group-list"),
    path("projects/<str:slug>/node-groups/new/", views.node_group_create, name="node-group-create"),
    path(
        "projects/<str:slug>/node-groups/<int:node_group_id>/",
        views.node_group_detail,
        name="node-group-detail",
    ),
    path(
        "projects/<str:slug>/node-groups/<int:node_group_id>/delete/",
        views.node_group_delete,
        name="node-group-delete",
    ),
]
