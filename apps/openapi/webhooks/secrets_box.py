"""Webhook secrets must be read back to check HMACs, so they are stored encrypted (Fernet with a key
derived from SECRET_KEY), never in plain text. Changing SECRET_KEY means generating new secrets."""

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _box() -> Fernet:
    key = hashlib.sha256(f"devops-webhook-secret:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def secret_encrypt(secret: str) -> str:
    return _box().encrypt(secret.encode()).decode()


def secret_decrypt(encrypted: str) -> str | None:
    try:
        return _box().decrypt(encrypted.encode()).decode()
    except InvalidToken:
        return None
