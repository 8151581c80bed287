"""Token scopes (each implies the ones below it) and the outcomes of webhook deliveries."""

from django.db import models


class Scope(models.TextChoices):
    READ = "read", "Read"
    TRIGGER = "trigger", "Trigger"
    WRITE = "write", "Write"
    ADMIN = "admin", "Admin"

    @property
    def rank(self) -> int:
        return list(Scope).index(self)

    def implies(self, other: "Scope") -> bool:
        """admin ⊇ write ⊇ trigger ⊇ read: a token may do what its highest scope or a lower one allows."""
        return self.rank >= Scope(other).rank


class DeliveryOutcome(models.TextChoices):
    STARTED = "started", "Build started"
    SKIPPED = "skipped", "No build: the filters do not match"
    IGNORED = "ignored", "Ignored event"
    FAILED = "failed", "The build could not start"
    REJECTED = "rejected", "Bad signature"


class Provider(models.TextChoices):
    GITHUB = "github", "GitHub"
    GITLAB = "gitlab", "GitLab"
    GITEA = "gitea", "Gitea / Forgejo"
