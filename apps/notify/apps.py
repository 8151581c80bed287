"""The notify app: listens to `apps.process.signals.build_event` once Django is ready."""

from django.apps import AppConfig


class NotifyConfig(AppConfig):
    name = "apps.notify"
    label = "notify"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from apps.notify.receivers import connect_receivers

        connect_receivers()
