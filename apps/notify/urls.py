"""Page routes: a pipeline's notification settings and deliveries, and the user's subscriptions."""

from django.urls import path

from apps.notify import views

PIPELINE = "projects/<str:slug>/pipelines/<str:pipeline>/notifications/"

urlpatterns = [
    path(PIPELINE, views.pipeline_notifications, name="pipeline-notifications"),
    path(f"{PIPELINE}<int:setting_id>/", views.pipeline_notification_edit, name="pipeline-notification-edit"),
    path(
        f"{PIPELINE}<int:setting_id>/delete/",
        views.pipeline_notification_delete,
        name="pipeline-notification-delete",
    ),
    path(
        f"{PIPELINE}deliveries/",
        views.pipeline_notification_deliveries,
        name="pipeline-notification-deliveries",
    ),
    path("notifications/", views.my_notifications, name="my-notifications"),
    path(
        "notifications/<int:subscription_id>/delete/", views.subscription_delete, name="subscription-delete"
    ),
]
