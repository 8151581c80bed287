"""Webhook secrets of pipeline notification settings, sealed with the credential key ring
(apps.ticket.crypto) and bound to their row; only `setting_secret` gives the plaintext back, to sign."""

from apps.notify.models import PipelineNotification
from apps.ticket.crypto import Sealed, key_ring


def secret_seal(setting: PipelineNotification, secret: str) -> None:
    """Store `secret` on the row (not saved here); an empty secret clears it."""
    if not secret:
        setting.secret_key_id, setting.secret_nonce, setting.secret_ciphertext = "", b"", b""
        return
    sealed = key_ring().encrypt(secret.encode(), setting.associated_data)
    setting.secret_key_id, setting.secret_nonce, setting.secret_ciphertext = (
        sealed.key_id,
        sealed.nonce,
        sealed.ciphertext,
    )


def setting_secret(setting: PipelineNotification) -> str:
    """The plaintext secret ("" when none); raises apps.ticket.crypto.DecryptionFailed."""
    if not setting.secret_key_id:
        return ""
    sealed = Sealed(setting.secret_key_id, bytes(setting.secret_nonce), bytes(setting.secret_ciphertext))
    return key_ring().decrypt(sealed, setting.associated_data).decode()
