"""Credentials (encrypted values), their audit trail and their uses by builds.

A value is the JSON of its fields, sealed with AES-256-GCM (apps.ticket.crypto): only the key id,
the nonce and the ciphertext are stored. Nothing here can give the plaintext back except
`services.credential_value`, which builds call through the secret provider.
"""

import uuid

from django.conf import settings
from django.db import models

from apps.ticket.choices import CredentialAction, CredentialType
from apps.ticket.validators import credential_name_validator


def associated_data(uid, project_id) -> bytes:
    """What a sealed value is bound to: its credential and that credential's project."""
    return f"devops-ticket:v1:{uid}:{project_id}".encode()


class Credential(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=100, validators=[credential_name_validator])
    type = models.CharField(max_length=32, choices=CredentialType.choices)
    description = models.TextField(blank=True)
    shared_with = models.ManyToManyField("core.Project", blank=True, related_name="shared_credentials")
    key_id = models.CharField(max_length=32, editable=False)
    nonce = models.BinaryField(max_length=12, editable=False)
    ciphertext = models.BinaryField(editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    rotated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="ticket_credential_unique_name")
        ]

    def __str__(self):
        return f"{self.project_id}/{self.name}"

    @property
    def associated_data(self) -> bytes:
        return associated_data(self.uid, self.project_id)


class CredentialEvent(models.Model):
    """Who did what to a credential, and when; kept after the credential is deleted."""

    credential = models.ForeignKey(
        Credential, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+")
    credential_name = models.CharField(max_length=100)
    action = models.CharField(max_length=16, choices=CredentialAction.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    details = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.credential_name} {self.action} at {self.at:%Y-%m-%d %H:%M}"


class CredentialUse(models.Model):
    """A job that received the credential (recorded when the job is claimed)."""

    credential = models.ForeignKey(Credential, on_delete=models.CASCADE, related_name="uses")
    project = models.ForeignKey("core.Project", on_delete=models.CASCADE, related_name="+")
    build = models.ForeignKey("process.Build", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey("process.JobRun", on_delete=models.CASCADE, related_name="+")
    attempt = models.PositiveIntegerField(default=1)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["credential", "job", "attempt"], name="ticket_credentialuse_unique"
            )
        ]

    def __str__(self):
        return f"{self.credential_id} used by job {self.job_id}"
