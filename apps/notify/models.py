"""Per-pipeline notification settings, per-user subscriptions, editable message templates, and every
delivery with its attempts.

A setting's webhook secret is sealed with the credential key ring (apps.ticket.crypto, AES-256-GCM)
and bound to its row: only the key id, nonce and ciphertext are stored, and no page or API answer
holds it. A Delivery keeps the rendered message and the facts it was rendered from, so every retry
sends the same thing.
"""

import uuid

from django.conf import settings
from django.db import models

from apps.notify.choices import Channel, DeliveryStatus, Source, Trigger


def secret_associated_data(uid, pipeline_id) -> bytes:
    return f"devops-notify:v1:{uid}:{pipeline_id}".encode()


class PipelineNotification(models.Model):
    """One row of a pipeline's Notifications settings: these events, by this channel, to this target."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    pipeline = models.ForeignKey("process.Pipeline", on_delete=models.CASCADE, related_name="notifications")
    events = models.JSONField(default=list)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    # Email addresses (comma or newline separated) for email; one http(s) URL for the others.
    target = models.TextField()
    enabled = models.BooleanField(default=True)
    secret_key_id = models.CharField(max_length=32, blank=True, editable=False)
    secret_nonce = models.BinaryField(max_length=12, blank=True, default=b"", editable=False)
    secret_ciphertext = models.BinaryField(blank=True, default=b"", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["pipeline", "id"]

    def __str__(self):
        return f"{self.pipeline_id}: {self.channel} {', '.join(self.events)}"

    @property
    def has_secret(self) -> bool:
        return bool(self.secret_key_id)

    @property
    def associated_data(self) -> bytes:
        return secret_associated_data(self.uid, self.pipeline_id)


class Subscription(models.Model):
    """A user hears about a project's pipelines (pipeline empty) or one pipeline, by email."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+")
    pipeline = models.ForeignKey(
        "process.Pipeline", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    events = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user", "project", "pipeline"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "project", "pipeline"], name="notify_subscription_unique"
            ),
            models.UniqueConstraint(
                fields=["user", "project"],
                condition=models.Q(pipeline__isnull=True),
                name="notify_subscription_unique_project",
            ),
        ]

    def __str__(self):
        return f"{self.user_id} -> {self.project_id}/{self.pipeline_id or '*'}"


class MessageTemplate(models.Model):
    """Subject and body (Django template strings) of one trigger on one channel; without a row the
    files in templates/notify/messages/ are used."""

    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    subject = models.CharField(max_length=500, help_text="One line; e.g. [{{ trigger_label }}] {{ title }}")
    body = models.TextField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["trigger", "channel"]
        constraints = [models.UniqueConstraint(fields=["trigger", "channel"], name="notify_template_unique")]

    def __str__(self):
        return f"{self.get_trigger_display()} by {self.get_channel_display()}"


class Delivery(models.Model):
    """One message to one target about one event of one build attempt; retried until sent or given up."""

    build = models.ForeignKey("process.Build", on_delete=models.CASCADE, related_name="+")
    pipeline = models.ForeignKey("process.Pipeline", on_delete=models.CASCADE, related_name="+")
    build_attempt = models.PositiveIntegerField(default=1)
    event = models.CharField(max_length=40)
    stage_index = models.IntegerField(default=-1)
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    target = models.CharField(max_length=500)
    source = models.CharField(max_length=16, choices=Source.choices)
    setting = models.ForeignKey(
        PipelineNotification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject = models.CharField(max_length=500)
    body = models.TextField()
    facts = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, db_index=True
    )
    response_code = models.IntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["build", "build_attempt", "event", "stage_index", "channel", "target"],
                name="notify_delivery_once",
            )
        ]

    def __str__(self):
        return f"{self.event} of build {self.build_id} by {self.channel} to {self.target}: {self.status}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveIntegerField()
    ok = models.BooleanField()
    response_code = models.IntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number"]

    def __str__(self):
        return f"attempt {self.number} of delivery {self.delivery_id}: {'ok' if self.ok else self.error}"
