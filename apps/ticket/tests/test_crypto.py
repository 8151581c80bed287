"""AES-256-GCM under the key ring: round trip, wrong key, data bound to its credential, key
configuration errors, the production refusal, and `ticket rotate-key`."""

import base64
import os
import subprocess
import sys
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from apps.ticket import crypto
from apps.ticket.crypto import DecryptionFailed, KeyRing, Sealed, parse_entries
from apps.ticket.models import Credential, CredentialEvent
from apps.ticket.services import credential_create, credential_value
from apps.ticket.tests.conftest import KEY_A, KEY_B

SECRET = "s3cr3t-Ünïcode-value"


def ring(*entries):
    return KeyRing(parse_entries(",".join(entries), "test"))


def test_round_trip_with_a_fresh_nonce_each_time():
    keys = ring(KEY_A)
    first, second = keys.encrypt(SECRET.encode(), b"aad"), keys.encrypt(SECRET.encode(), b"aad")
    assert first.key_id == "a" and len(first.nonce) == 12
    assert first.nonce != second.nonce and first.ciphertext != second.ciphertext
    assert SECRET.encode() not in first.ciphertext
    assert keys.decrypt(first, b"aad").decode() == SECRET


def test_a_wrong_key_with_the_same_id_does_not_decrypt():
    sealed = ring(KEY_A).encrypt(b"value", b"aad")
    impostor = ring("a:" + KEY_B.split(":", 1)[1])
    with pytest.raises(DecryptionFailed, match="does not decrypt"):
        impostor.decrypt(sealed, b"aad")


def test_an_unknown_key_id_is_named():
    sealed = ring(KEY_B).encrypt(b"value", b"aad")
    with pytest.raises(DecryptionFailed, match="no key with id 'b'"):
        ring(KEY_A).decrypt(sealed, b"aad")


def test_associated_data_binds_the_value_to_its_credential(project, users):
    one = credential_create(
        project=project, user=users["owner"], name="ONE", type="token", values={"token": "t1"}
    )
    two = credential_create(
        project=project, user=users["owner"], name="TWO", type="token", values={"token": "t2"}
    )
    assert credential_value(one) == {"token": "t1"}
    # copy one's sealed value onto two: it must not decrypt there
    Credential.objects.filter(pk=two.pk).update(key_id=one.key_id, nonce=one.nonce, ciphertext=one.ciphertext)
    two.refresh_from_db()
    with pytest.raises(DecryptionFailed):
        credential_value(two)
    tampered = Sealed(one.key_id, bytes(one.nonce), bytes(one.ciphertext)[:-1] + b"\0")
    with pytest.raises(DecryptionFailed):
        crypto.key_ring().decrypt(tampered, one.associated_data)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no key found"),
        ("nocolon", "id:base64key"),
        ("a:!!!", "not valid base64"),
        ("a:" + base64.b64encode(b"short").decode(), "must be 32 bytes"),
        (f"{KEY_A},{KEY_A}", "appears twice"),
    ],
    ids=["empty", "no colon", "bad base64", "short key", "duplicate id"],
)
def test_bad_key_configuration_is_refused_with_a_message(text, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        KeyRing(parse_entries(text, "DEVOPS_TICKET_KEYS"))


def test_key_file_and_generated_key_file(settings, tmp_path):
    key_file = tmp_path / "keys"
    key_file.write_text(f"# current first\n{KEY_B}\n{KEY_A}\n")
    settings.TICKET_KEYS, settings.TICKET_KEY_FILE = "", str(key_file)
    assert crypto.configured_key_ring().key_ids == ["b", "a"]
    settings.TICKET_KEY_FILE, settings.VAR_DIR, settings.DEBUG = "", tmp_path, True
    generated = crypto.configured_key_ring()
    path = tmp_path / crypto.GENERATED_KEY_FILE
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    assert crypto.configured_key_ring().current_id == generated.current_id  # reused, not regenerated


def test_without_a_key_and_without_debug_the_key_check_fails(settings):
    settings.TICKET_KEYS, settings.TICKET_KEY_FILE, settings.DEBUG = "", "", False
    with pytest.raises(ImproperlyConfigured, match="DEVOPS_TICKET_KEYS"):
        crypto.configured_key_ring()
    from apps.ticket.checks import ticket_key_ring_check

    crypto.reset_key_ring()
    errors = ticket_key_ring_check(None)
    assert [error.id for error in errors] == ["ticket.E001"]


def test_production_settings_without_a_key_refuse_to_start():
    env = {key: value for key, value in os.environ.items() if not key.startswith("DEVOPS_TICKET")}
    env.update(DEBUG="0", SECRET_KEY="x" * 50, DJANGO_SETTINGS_MODULE="devops.settings")
    code = "import django; django.setup()"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "no credential encryption key is set" in result.stderr
    env["DEVOPS_TICKET_KEYS"] = KEY_A
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_rotate_key_reencrypts_every_value_in_batches(settings, project, users):
    values = {f"C{n}": f"value-{n}" for n in range(7)}
    for name, value in values.items():
        credential_create(
            project=project, user=users["owner"], name=name, type="password", values={"password": value}
        )
    settings.TICKET_KEYS = f"{KEY_B},{KEY_A}"  # new key first, old one still readable
    crypto.reset_key_ring()
    assert {c.name: credential_value(c)["password"] for c in Credential.objects.all()} == values
    out = StringIO()
    call_command("ticket", "rotate-key", "--batch-size", "3", stdout=out)
    assert "re-encrypted 3\nre-encrypted 6\nre-encrypted 7\n" in out.getvalue()
    assert set(Credential.objects.values_list("key_id", flat=True)) == {"b"}
    assert CredentialEvent.objects.filter(action="reencrypted").count() == 7
    settings.TICKET_KEYS = KEY_B  # the old key can go now
    crypto.reset_key_ring()
    assert {c.name: credential_value(c)["password"] for c in Credential.objects.all()} == values
    status = StringIO()
    call_command("ticket", "key-status", stdout=status)
    assert "b: 7" in status.getvalue()


def test_generate_key_prints_a_usable_entry():
    out = StringIO()
    call_command("ticket", "generate-key", "--id", "k9", stdout=out)
    assert ring(out.getvalue().strip()).current_id == "k9"
