"""Build machines (agents), the node groups they belong to and the one-time tokens that register them.

An agent or token without a project is shared: every project may use it, only superusers manage it.
Secrets and tokens are stored as sha256 digests of high-entropy random values, never in plain text.
"""

from datetime import timedelta

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from apps.environment.choices import AgentStatus, EnvironmentType
from apps.environment.validators import validate_env, validate_labels


def agent_offline_after() -> timedelta:
    return timedelta(seconds=getattr(settings, "AGENT_OFFLINE_SECONDS", 30))


class NodeGroup(models.Model):
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="node_groups")
    name = models.CharField(max_length=100)
    env_type = models.CharField(max_length=8, choices=EnvironmentType.choices, default=EnvironmentType.BUILD)
    description = models.TextField(blank=True)
    env = models.JSONField(default=dict, blank=True, validators=[validate_env])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="environment_nodegroup_unique_name")
        ]

    def __str__(self):
        return f"{self.project_id}/{self.name}"


class Agent(models.Model):
    project = models.ForeignKey(
        "core.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="agents"
    )
    name = models.CharField(max_length=200)
    hostname = models.CharField(max_length=255, blank=True)
    os = models.CharField(max_length=64, blank=True)
    arch = models.CharField(max_length=64, blank=True)
    version = models.CharField(max_length=64, blank=True)
    labels = models.JSONField(default=list, blank=True, validators=[validate_labels])
    slots = models.PositiveIntegerField(default=1, validators=[MinValueValidator(1)])
    enabled = models.BooleanField(default=True)
    status = models.CharField(max_length=16, choices=AgentStatus.choices, default=AgentStatus.OFFLINE)
    node_groups = models.ManyToManyField(NodeGroup, blank=True, related_name="agents")
    secret_hash = models.CharField(max_length=64)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["status", "last_heartbeat_at"], name="environment_agent_status")]
        constraints = [
            models.CheckConstraint(condition=models.Q(slots__gte=1), name="environment_agent_slots")
        ]

    def __str__(self):
        return self.name

    @property
    def is_shared(self) -> bool:
        return self.project_id is None

    def is_online_at(self, now) -> bool:
        return self.last_heartbeat_at is not None and now - self.last_heartbeat_at <= agent_offline_after()

    @property
    def is_online(self) -> bool:
        return self.is_online_at(timezone.now())

    @property
    def current_status(self) -> str:
        """The status as of now, whether or not the offline sweep has run since the last heartbeat."""
        if not self.enabled:
            return AgentStatus.DISABLED
        return AgentStatus.ONLINE if self.is_online else AgentStatus.OFFLINE


def default_token_expiry():
    return timezone.now() + timedelta(hours=24)


class RegistrationToken(models.Model):
    project = models.ForeignKey(
        "core.Project", null=True, blank=True, on_delete=models.CASCADE, related_name="registration_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(
        max_length=16, help_text="The first characters of the token, to tell tokens apart."
    )
    labels = models.JSONField(default=list, blank=True, validators=[validate_labels])
    slots = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)], help_text="Empty: the agent decides."
    )
    node_groups = models.ManyToManyField(NodeGroup, blank=True, related_name="registration_tokens")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=default_token_expiry)
    used_at = models.DateTimeField(null=True, blank=True)
    agent = models.ForeignKey(
        Agent,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The agent this token registered.",
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self):
        return f"{self.hint}… ({self.project_id or 'shared'})"

    @property
    def state(self) -> str:
        if self.used_at is not None:
            return "used"
        if self.expires_at <= timezone.now():
            return "expired"
        return "active"
