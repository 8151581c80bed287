"""Random secrets and their stored digests.

Secrets are 32 random bytes, so a plain sha256 is enough (no slow password hasher on every agent
call); digests are compared in constant time.
"""

import hashlib
import hmac
import secrets

REGISTRATION_TOKEN_PREFIX = "reg-"


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_registration_token() -> str:
    return REGISTRATION_TOKEN_PREFIX + secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def digest_matches(value: str, expected_digest: str) -> bool:
    return hmac.compare_digest(digest(value), expected_digest)
