from django.apps import AppConfig


class EnvironmentConfig(AppConfig):
    name = "apps.environment"
    label = "environment"
    verbose_name = "Build machines"
