"""The channels: email through Django's email backend; webhook, Slack and WeCom as one JSON POST with
urllib and a short timeout. A generic webhook with a secret carries
`X-Devops-Signature-256: sha256=<hex HMAC-SHA256 of the body>`. Each send answers an Outcome and
never raises."""

import hashlib
import hmac
import http.client
import json
import smtplib
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.core.mail import EmailMessage, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from apps.notify.choices import Channel

HTTP_TIMEOUT_SECONDS = 5
MAX_ANSWER_BYTES = 64 * 1024
USER_AGENT = "DevOps-CI-Notify/1"
SIGNATURE_HEADER = "X-Devops-Signature-256"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    response_code: int | None = None
    error: str = ""
    final: bool = False  # trying again cannot help


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def json_body(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def email_send(*, to: str, subject: str, body: str, headers: dict) -> Outcome:
    try:
        connection = get_connection(fail_silently=False)
        sent = EmailMessage(subject, body, to=[to], headers=headers, connection=connection).send()
    except smtplib.SMTPResponseException as error:
        text = error.smtp_error
        text = text.decode(errors="replace") if isinstance(text, bytes) else text
        return Outcome(False, error.smtp_code, f"SMTP {error.smtp_code}: {text}")
    except smtplib.SMTPRecipientsRefused as error:
        code, text = next(iter(error.recipients.values()), (None, b""))
        return Outcome(False, code, f"recipient refused: {text.decode(errors='replace')}")
    except (smtplib.SMTPException, OSError) as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}")
    if not sent:
        return Outcome(False, None, "the email backend sent nothing")
    return Outcome(True, 250 if isinstance(connection, SmtpBackend) else None)


def http_post(*, url: str, body: bytes, headers: dict, timeout: float = HTTP_TIMEOUT_SECONDS) -> tuple:
    """(Outcome, the first bytes of the answer)."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT, **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return Outcome(True, response.status), response.read(MAX_ANSWER_BYTES)
    except urllib.error.HTTPError as error:
        return Outcome(False, error.code, f"HTTP {error.code} {error.reason}"), b""
    except urllib.error.URLError as error:
        return Outcome(False, None, f"{type(error.reason).__name__}: {error.reason}"), b""
    except (http.client.HTTPException, OSError, ValueError) as error:
        return Outcome(False, None, f"{type(error).__name__}: {error}".rstrip(": ")), b""


def wecom_outcome(outcome: Outcome, answer: bytes) -> Outcome:
    """The WeCom robot answers 200 with `{"errcode": N, "errmsg": ...}`; only errcode 0 is sent."""
    if not outcome.ok:
        return outcome
    try:
        data = json.loads(answer or b"{}")
    except ValueError:
        return outcome
    if isinstance(data, dict) and data.get("errcode", 0) != 0:
        error = f"WeCom errcode {data['errcode']}: {data.get('errmsg', '')}"
        return Outcome(False, outcome.response_code, error)
    return outcome


def webhook_send(*, channel: str, url: str, payload: dict, headers: dict, secret: str = "") -> Outcome:
    body = json_body(payload)
    if channel == Channel.WEBHOOK and secret:
        headers = {**headers, SIGNATURE_HEADER: signature(secret, body)}
    outcome, answer = http_post(url=url, body=body, headers=headers)
    return wecom_outcome(outcome, answer) if channel == Channel.WECOM else outcome
