"""How each Git host proves a delivery: GitHub's `X-Hub-Signature-256: sha256=<hex HMAC>`, Gitea's
and Forgejo's `X-Gitea-Signature` / `X-Forgejo-Signature: <hex HMAC>` (HMAC-SHA256 of the raw body
with the secret), and GitLab's `X-Gitlab-Token: <the secret itself>`. Comparisons take constant time."""

import hashlib
import hmac

from apps.openapi.choices import Provider


def body_hmac(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(*, provider: str, headers, body: bytes, secret: str) -> bool:
    if provider == Provider.GITLAB:
        return hmac.compare_digest(headers.get("X-Gitlab-Token", "").encode(), secret.encode())
    if provider == Provider.GITHUB:
        sent = headers.get("X-Hub-Signature-256", "")
        return sent.startswith("sha256=") and hmac.compare_digest(sent[7:], body_hmac(secret, body))
    sent = headers.get("X-Forgejo-Signature") or headers.get("X-Gitea-Signature") or ""
    return bool(sent) and hmac.compare_digest(sent.lower(), body_hmac(secret, body))
