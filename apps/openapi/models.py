"""API tokens (stored as sha256 digests, scoped, optionally bound to a project through a bot user),
a pipeline's webhook settings (the secret Git hosts sign with) and the deliveries they sent."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.openapi.choices import DeliveryOutcome, Provider, Scope


class ApiToken(models.Model):
    """A personal token acts as its user; a project bot token acts as a bot user who is a member of
    one project only (`project` is set), so every query is scoped by the same membership rules."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    project = models.ForeignKey(
        "core.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="bot_tokens"
    )
    name = models.CharField(max_length=100)
    scopes = models.JSONField(default=list)
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @property
    def top_scope(self) -> Scope | None:
        scopes = [Scope(value) for value in self.scopes if value in Scope.values]
        return max(scopes, key=lambda scope: scope.rank) if scopes else None

    def allows(self, scope: Scope) -> bool:
        top = self.top_scope
        return top is not None and top.implies(scope)


class WebhookSettings(models.Model):
    """Where a pipeline's repository sends its events; `secret_encrypted` is Fernet-encrypted."""

    pipeline = models.OneToOneField("process.Pipeline", on_delete=models.CASCADE, related_name="webhook")
    repository_url = models.CharField(max_length=500, blank=True)
    secret_encrypted = models.TextField()
    secret_hint = models.CharField(max_length=16)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"webhook of {self.pipeline}"


class WebhookDelivery(models.Model):
    pipeline = models.ForeignKey(
        "process.Pipeline", on_delete=models.CASCADE, related_name="webhook_deliveries"
    )
    provider = models.CharField(max_length=16, choices=Provider.choices)
    delivery_id = models.CharField(max_length=100)
    event = models.CharField(max_length=100, blank=True)
    action = models.CharField(max_length=50, blank=True)
    ref = models.CharField(max_length=255, blank=True)
    sha = models.CharField(max_length=64, blank=True)
    actor = models.CharField(max_length=255, blank=True)
    is_fork = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=DeliveryOutcome.choices)
    reason = models.TextField(blank=True)
    build = models.ForeignKey(
        "process.Build", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "provider", "delivery_id"],
                condition=~Q(outcome="rejected"),
                name="openapi_delivery_unique_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event} {self.delivery_id} -> {self.outcome}"
