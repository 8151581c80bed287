from django.apps import AppConfig


class OpenApiConfig(AppConfig):
    name = "apps.openapi"
    label = "openapi"
    verbose_name = "API tokens and webhooks"

    def ready(self):
        from apps.openapi import schema  # noqa: F401  (registers the bearer scheme with drf-spectacular)
