from django.apps import AppConfig


class ProcessConfig(AppConfig):
    name = "apps.process"
    label = "process"
    verbose_name = "Pipelines and builds"
