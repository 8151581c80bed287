"""Page routes of the core app."""

from django.urls import path

from apps.core import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<str:slug>/members/add/", views.member_add, name="member-add"),
    path("projects/<str:slug>/members/<str:username>/role/", views.member_change_role, name="member-role"),
    path("projects/<str:slug>/members/<str:username>/remove/", views.member_remove, name="member-remove"),
]
