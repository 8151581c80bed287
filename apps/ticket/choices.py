"""Credential types and the fields each one holds; audit actions."""

from django.db import models


class CredentialType(models.TextChoices):
    PASSWORD = "password", "Password"
    USERNAME_PASSWORD = "username_password", "Username and password"
    TOKEN = "token", "Token"
    SSH_KEY = "ssh_key", "SSH private key"
    CERTIFICATE = "certificate", "Certificate"
    SECRET_FILE = "secret_file", "Secret file"
    ACCESS_KEY = "access_key", "Access key"


# (fields, required fields); a single-field type renders `secrets.NAME` as its value, a
# multi-part one as an object whose fields are `secrets.NAME.<field>`.
TYPE_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    CredentialType.PASSWORD: (("password",), ("password",)),
    CredentialType.USERNAME_PASSWORD: (("username", "password"), ("username", "password")),
    CredentialType.TOKEN: (("token",), ("token",)),
    CredentialType.SSH_KEY: (("private_key", "passphrase", "username"), ("private_key",)),
    CredentialType.CERTIFICATE: (("certificate", "private_key"), ("certificate", "private_key")),
    CredentialType.SECRET_FILE: (("content",), ("content",)),
    CredentialType.ACCESS_KEY: (
        ("access_key_id", "secret_access_key"),
        ("access_key_id", "secret_access_key"),
    ),
}

# Types a pipeline's repository can be checked out with: HTTPS with a token or a user name and
# password, or SSH with a private key.
CHECKOUT_TYPES = (CredentialType.TOKEN, CredentialType.USERNAME_PASSWORD, CredentialType.SSH_KEY)

# Fields that are not secret on their own and are not masked in logs (an SSH user name, an
# access key id are masked anyway: everything the job receives is masked).
MULTI_LINE_FIELDS = {"private_key", "certificate", "content"}


class CredentialAction(models.TextChoices):
    CREATED = "created", "Created"
    UPDATED = "updated", "Updated"
    ROTATED = "rotated", "Value replaced"
    SHARED = "shared", "Sharing changed"
    DELETED = "deleted", "Deleted"
    REENCRYPTED = "reencrypted", "Re-encrypted under a new key"
