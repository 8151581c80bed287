from django.apps import AppConfig


class LogConfig(AppConfig):
    name = "apps.log"
    label = "log"
    verbose_name = "Build logs"
