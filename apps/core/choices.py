"""Choices shared across apps: project roles, ordered from least to most privileged."""

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    DEVELOPER = "developer", "Developer"
    MAINTAINER = "maintainer", "Maintainer"
    OWNER = "owner", "Owner"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def __lt__(self, other):
        return self.rank < Role(other).rank

    def __le__(self, other):
        return self.rank <= Role(other).rank

    def __gt__(self, other):
        return self.rank > Role(other).rank

    def __ge__(self, other):
        return self.rank >= Role(other).rank
