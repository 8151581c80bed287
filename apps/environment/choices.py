"""Choices of the environment app that other apps may import: agent statuses and node group types."""

from django.db import models


class AgentStatus(models.TextChoices):
    ONLINE = "online", "Online"
    OFFLINE = "offline", "Offline"
    DISABLED = "disabled", "Disabled"


class EnvironmentType(models.TextChoices):
    DEV = "dev", "Development"
    TEST = "test", "Test"
    PROD = "prod", "Production"
    BUILD = "build", "Build"
