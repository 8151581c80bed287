"""What the openapi tests share: a team with a pipeline, tokens of every scope, API clients."""

import hashlib
import hmac
import json
import uuid
from pathlib import Path

from rest_framework.test import APIClient

from apps.openapi import services

FIXTURES = Path(__file__).parent / "fixtures"
SCOPES = ["read", "trigger", "write", "admin"]


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def bearer(plaintext: str, **headers) -> APIClient:
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}", **headers)
    return client


def personal_token(user, scopes, **fields) -> str:
    return services.token_create(user=user, name="t", scopes=list(scopes), **fields)[1]


def github_headers(secret: str, body: bytes, event: str, delivery: str | None = None) -> dict:
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "HTTP_X_GITHUB_EVENT": event,
        "HTTP_X_GITHUB_DELIVERY": delivery or str(uuid.uuid4()),
        "HTTP_X_HUB_SIGNATURE_256": signature,
    }


def gitlab_headers(secret: str, body: bytes, event: str, delivery: str | None = None) -> dict:
    return {
        "HTTP_X_GITLAB_EVENT": event,
        "HTTP_X_GITLAB_EVENT_UUID": delivery or str(uuid.uuid4()),
        "HTTP_X_GITLAB_TOKEN": secret,
    }


def gitea_headers(secret: str, body: bytes, event: str, delivery: str | None = None, forgejo=False) -> dict:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    name = "FORGEJO" if forgejo else "GITEA"
    return {
        f"HTTP_X_{name}_EVENT": event,
        f"HTTP_X_{name}_DELIVERY": delivery or str(uuid.uuid4()),
        f"HTTP_X_{name}_SIGNATURE": signature,
        # Gitea also sends GitHub's headers; it must still be recognised as Gitea.
        "HTTP_X_GITHUB_EVENT": event,
    }
