"""Page routes of a project's quality rules."""

from django.urls import path

from apps.quality import views

RULES = "projects/<str:slug>/quality/"
RULE = f"{RULES}rules/<int:rule_id>/"

urlpatterns = [
    path(RULES, views.rule_list_page, name="quality-rule-list"),
    path(f"{RULES}rules/new/", views.rule_create_page, name="quality-rule-create"),
    path(RULE, views.rule_detail_page, name="quality-rule-detail"),
    path(f"{RULE}edit/", views.rule_edit_page, name="quality-rule-edit"),
    path(f"{RULE}delete/", views.rule_delete_page, name="quality-rule-delete"),
]
