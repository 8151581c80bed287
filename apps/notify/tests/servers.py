"""Real receivers on loopback for the notification tests: an SMTP server (aiosmtpd) that keeps every
message it gets, and an HTTP server in a thread that records each request, answers the statuses it
is given in turn (then 200) and can be told to hang."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _Keeper:
    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default
        )
        with self.lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    """aiosmtpd on 127.0.0.1; `settings()` are the EMAIL_* settings (or env) that reach it."""

    def __init__(self):
        self.keeper = _Keeper()
        self.port = free_port()
        self.controller = Controller(self.keeper, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        with self.keeper.lock:
            return list(self.keeper.messages)

    def env(self) -> dict[str, str]:
        return {"EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(self.port), "EMAIL_TIMEOUT": "5"}

    def wait(self, count: int = 1, timeout: float = 30.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} of {count} emails within {timeout} s"
            time.sleep(0.05)
        return self.messages


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes
    at: float


@dataclass
class HttpReceiver:
    """`statuses` are answered in order to successive requests, then 200; `hang_seconds` delays each
    answer; `answer` is the body of a 2xx answer."""

    statuses: list[int] = field(default_factory=list)
    hang_seconds: float = 0.0
    answer: bytes = b"ok"
    requests: list[Received] = field(default_factory=list)

    def __post_init__(self):
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    receiver.requests.append(Received(self.path, dict(self.headers), body, time.monotonic()))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.hang_seconds:
                    time.sleep(receiver.hang_seconds)
                payload = receiver.answer if status < 300 else b"boom"
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def received(self) -> list[Received]:
        with self.lock:
            return list(self.requests)

    def wait(self, count: int = 1, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received()) < count:
            assert time.monotonic() < deadline, (
                f"{len(self.received())} of {count} requests within {timeout} s"
            )
            time.sleep(0.05)
        return self.received()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def signature_valid(secret: str, body: bytes, header: str | None) -> bool:
    """How a receiver checks `X-Devops-Signature-256` (the example in docs/notifications.md)."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return header is not None and hmac.compare_digest(expected, header)
