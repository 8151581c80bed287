"""AES-256-GCM for credential values under a key ring.

The ring comes from `DEVOPS_TICKET_KEYS` (comma-separated `id:base64key`, the first one encrypts)
or from the file `DEVOPS_TICKET_KEY_FILE` (the same entries, one a line). With neither, and only
when DEBUG is on, a key file is generated in DEVOPS_VAR_DIR on first use. Every ciphertext is
stored with the id of the key that made it and a fresh 96-bit nonce; the associated data binds
it to its credential, so a value copied onto another row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
NONCE_BYTES = 12
KEY_BYTES = 32
GENERATED_KEY_FILE = "ticket-keys"


class DecryptionFailed(Exception):
    """The value cannot be decrypted: unknown key, wrong key, or data bound to another credential."""


@dataclass(frozen=True)
class Sealed:
    key_id: str
    nonce: bytes
    ciphertext: bytes


class KeyRing:
    """Keys by id; the first one is current (encrypts), all of them decrypt."""

    def __init__(self, entries: list[tuple[str, bytes]]):
        if not entries:
            raise ImproperlyConfigured("the ticket key ring is empty")
        self.current_id = entries[0][0]
        self._ciphers: dict[str, AESGCM] = {}
        for key_id, key in entries:
            if key_id in self._ciphers:
                raise ImproperlyConfigured(f"ticket key id {key_id!r} appears twice")
            self._ciphers[key_id] = AESGCM(key)

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    def encrypt(self, plaintext: bytes, aad: bytes) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        return Sealed(self.current_id, nonce, self._ciphers[self.current_id].encrypt(nonce, plaintext, aad))

    def decrypt(self, sealed: Sealed, aad: bytes) -> bytes:
        cipher = self._ciphers.get(sealed.key_id)
        if cipher is None:
            raise DecryptionFailed(f"no key with id {sealed.key_id!r} in the ticket key ring")
        try:
            return cipher.decrypt(bytes(sealed.nonce), bytes(sealed.ciphertext), aad)
        except InvalidTag:
            raise DecryptionFailed(
                "the value does not decrypt (wrong key or not this credential's)"
            ) from None


def parse_entries(text: str, source: str) -> list[tuple[str, bytes]]:
    """`id:base64key` entries separated by commas or newlines; `#` starts a comment line."""
    entries = []
    for raw in re.split(r"[,\n]", text):
        item = raw.strip()
        if not item or item.startswith("#"):
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not KEY_ID.match(key_id):
            raise ImproperlyConfigured(f"{source}: each entry is id:base64key (id of letters, digits, _.-)")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{source}: key {key_id!r} is not valid base64") from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"{source}: key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        entries.append((key_id, key))
    if not entries:
        raise ImproperlyConfigured(f"{source}: no key found")
    return entries


def new_key_entry(key_id: str | None = None) -> str:
    key_id = key_id or "k" + secrets.token_hex(4)
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def _generated_key_file() -> Path:
    """The embedded default's key file (DEBUG only), created atomically with mode 0600."""
    path = Path(settings.VAR_DIR) / GENERATED_KEY_FILE
    if not path.exists():
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(descriptor, "w") as handle:
            handle.write(new_key_entry("local1") + "\n")
    return path


def configured_key_ring() -> KeyRing:
    """The key ring the settings name; raises ImproperlyConfigured with what to set."""
    keys = getattr(settings, "TICKET_KEYS", "")
    key_file = getattr(settings, "TICKET_KEY_FILE", "")
    if keys:
        return KeyRing(parse_entries(keys, "DEVOPS_TICKET_KEYS"))
    if key_file:
        try:
            text = Path(key_file).read_text()
        except OSError as error:
            raise ImproperlyConfigured(f"DEVOPS_TICKET_KEY_FILE {key_file}: {error.strerror}") from None
        return KeyRing(parse_entries(text, f"DEVOPS_TICKET_KEY_FILE {key_file}"))
    if settings.DEBUG:
        path = _generated_key_file()
        return KeyRing(parse_entries(path.read_text(), str(path)))
    raise ImproperlyConfigured(
        "No credential encryption key: set DEVOPS_TICKET_KEYS (id:base64key[,...]) "
        "or DEVOPS_TICKET_KEY_FILE. "
        "Generate one with `python manage.py ticket generate-key`."
    )


_ring: KeyRing | None = None
_ring_source: tuple | None = None


def key_ring() -> KeyRing:
    """The configured ring, loaded once per process (and again when the settings change, in tests)."""
    global _ring, _ring_source
    source = (getattr(settings, "TICKET_KEYS", ""), getattr(settings, "TICKET_KEY_FILE", ""), settings.DEBUG)
    if _ring is None or source != _ring_source:
        _ring, _ring_source = configured_key_ring(), source
    return _ring


def reset_key_ring() -> None:
    global _ring, _ring_source
    _ring = _ring_source = None
