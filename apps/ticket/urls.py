"""Page routes of a project's credentials."""

from django.urls import path

from apps.ticket import views

CREDENTIAL = "projects/<str:slug>/credentials/<str:name>/"

urlpatterns = [
    path("projects/<str:slug>/credentials/", views.credential_list, name="credential-list"),
    path("projects/<str:slug>/credentials/new/", views.credential_create, name="credential-create"),
    path(CREDENTIAL, views.credential_detail, name="credential-detail"),
    path(f"{CREDENTIAL}replace/", views.credential_replace, name="credential-replace"),
    path(f"{CREDENTIAL}delete/", views.credential_delete, name="credential-delete"),
]
