#!/usr/bin/env python3
"""DevOps build agent: one file, Python 3.9+ standard library only.

It registers with the server once (`register`), then pulls work (`run`): a heartbeat thread, a
long-poll claim loop while a slot is free, and one thread per running job. Each job gets its own
workspace and state directory; each step runs in its own process group, its output is split into
lines, masked, numbered and shipped in batches (spooled to disk while the server is away). The
contract with the server is `docs/agent-protocol.md`.

    python3 devops_agent.py register --url https://ci.example.com --token reg-… --labels docker --run
    python3 devops_agent.py run [--config PATH] [--workdir DIR] [--once]

The parts take their collaborators as arguments (the log sender is a callable, the job's server
calls are one small object), so they can be driven directly by tests.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import http.client
import json
import logging
import os
import platform
import random
import re
import selectors
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any, NamedTuple

AGENT_VERSION = "1.3.1"

API_PREFIX = "/api/agent/v1/"
CLAIM_WAIT_SECONDS = 25
DEFAULT_HEARTBEAT_SECONDS = 5.0
JOB_HEARTBEAT_SECONDS = 1.0
PROGRESS_AFTER_SECONDS = 0.5
LOG_BATCH_LINES = 5000
LOG_BATCH_MIN_LINES = 2000
# A batch holds as many lines as the server stores in about this long (see BatchSizer).
LOG_BATCH_TARGET_SECONDS = 0.05
LOG_BATCH_CHARS = 256 * 1024
# The longest a line waits for its batch to fill: a job printing slowly makes at most 20 requests
# a second.
LOG_BATCH_INTERVAL = 0.05
# One batch waits while one is in flight: more read-ahead adds latency, not throughput (the step
# then waits on its pipe instead; bench/live.py).
LOG_MAX_PENDING_LINES = LOG_BATCH_LINES
LOG_MAX_PENDING_CHARS = 2 * LOG_BATCH_CHARS
MAX_LINE_BYTES = 16 * 1024
KILL_GRACE_SECONDS = 1.0
OUTPUT_DRAIN_SECONDS = 1.0
MASK = "***"
MIN_DERIVED_SECRET = 6
STATE_DIR_NAME = "_agent"
REPORT_TYPES = ("junit", "coverage")
REPORT_MAX_BYTES = 5 * 1024 * 1024
REPORT_UPLOAD_ATTEMPTS = 3

log = logging.getLogger("devops-agent")


# ---------------------------------------------------------------------------------------------
# Small utilities


def utc_now() -> str:
    """UTC with milliseconds, `2025-01-31T12:00:00.123Z`; formatted once per millisecond."""
    global _last_stamp
    millisecond = int(time.time() * 1000)
    stamp = _last_stamp
    if millisecond != stamp[0]:
        seconds, fraction = divmod(millisecond, 1000)
        stamp = (millisecond, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:03d}Z")
        _last_stamp = stamp
    return stamp[1]


_last_stamp: tuple[int, str] = (0, "")


def runs(values: list) -> list:
    """[value, count, value, count, ...] for consecutive equal values."""
    flat: list = []
    for value in values:
        if flat and flat[-2] == value:
            flat[-1] += 1
        else:
            flat += (value, 1)
    return flat


def log_columns(lines: list[dict]) -> dict | None:
    """A batch in column form (protocol 1.3), or None when its seqs are not consecutive."""
    first = lines[0]["seq"]
    if lines[-1]["seq"] - first + 1 != len(lines):
        return None
    return {
        "first_seq": first,
        "texts": [line["text"] for line in lines],
        "ts": runs([line["ts"] for line in lines]),
        "step": runs([line["step"] for line in lines]),
        "stream": runs([line["stream"] for line in lines]),
    }


def runner_os() -> str:
    return {"linux": "Linux", "darwin": "macOS", "win32": "Windows"}.get(sys.platform, sys.platform)


def runner_arch() -> str:
    machine = platform.machine().lower()
    names = {"x86_64": "X64", "amd64": "X64", "aarch64": "ARM64", "arm64": "ARM64",
             "i386": "X86", "i686": "X86", "x86": "X86", "armv7l": "ARM", "armv6l": "ARM"}
    return names.get(machine, machine.upper() or "UNKNOWN")


def host_facts() -> dict[str, str]:
    os_name = {"darwin": "macos", "win32": "windows"}.get(sys.platform, sys.platform)
    return {"os": os_name, "arch": platform.machine() or "unknown", "hostname": socket.gethostname()}


def default_labels() -> list[str]:
    return ["self-hosted", host_facts()["os"], runner_arch().lower()]


def string_env(values: dict[str, Any] | None) -> dict[str, str]:
    result = {}
    for name, value in (values or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        result[str(name)] = str(value)
    return result


class Backoff:
    """Exponential delays with jitter: 0.5 s doubling to 30 s."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, jitter: float = 0.2):
        self.initial = initial
        self.maximum = maximum
        self.jitter = jitter
        self._current = initial

    def next(self) -> float:
        delay = self._current
        self._current = min(self._current * 2, self.maximum)
        return delay * random.uniform(1 - self.jitter, 1 + self.jitter)

    def reset(self) -> None:
        self._current = self.initial


# ---------------------------------------------------------------------------------------------
# Talking to the server


class TransientError(ConnectionError):
    """A connection error, a timeout or a 5xx: worth retrying."""


class RequestRejected(Exception):
    """A 4xx: the server refused the request; retrying it will not help."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"HTTP {status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


def normalise_server_url(url: str) -> str:
    url = url.strip().rstrip("/")
    suffix = API_PREFIX.rstrip("/")
    return url[: -len(suffix)] if url.endswith(suffix) else url


def error_from_status(status: int, raw: bytes, what: str) -> Exception:
    if status >= 500 or status in (408, 429):
        return TransientError(f"{what}: HTTP {status}")
    code, message = "http_error", raw.decode("utf-8", "replace")[:300]
    try:
        error = json.loads(raw).get("error") or {}
        code, message = error.get("code", code), error.get("message", message)
    except (ValueError, AttributeError):
        pass
    return RequestRejected(status, code, message)


class ApiClient:
    """JSON over HTTP(S) to `/api/agent/v1/`; `call` retries transient failures with backoff.

    Each thread keeps one keep-alive connection to the server; a reused connection the server has
    closed meanwhile is replaced and the request sent again once.
    """

    def __init__(self, url: str, agent_id: str | None = None, secret: str | None = None,
                 timeout: float = 30.0):
        self.base_url = normalise_server_url(url)
        self.agent_id = agent_id
        self.secret = secret
        self.timeout = timeout
        parts = urllib.parse.urlsplit(self.base_url)
        self._https = parts.scheme == "https"
        self._host, self._port, self._prefix = parts.hostname or "", parts.port, parts.path
        proxy = urllib.request.getproxies().get(parts.scheme)
        self._proxied = bool(proxy) and not urllib.request.proxy_bypass(parts.netloc)
        self._local = threading.local()

    def request(self, method: str, path: str, body: Any = None, *, timeout: float | None = None,
                auth: bool = True) -> tuple[int, dict]:
        what = f"{method} {path}"
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        headers = {"Accept": "application/json", "User-Agent": f"devops-agent/{AGENT_VERSION}"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if auth and self.agent_id:
            headers["Authorization"] = f"Agent {self.agent_id}:{self.secret}"
        try:
            status, raw = self._exchange(method, self._prefix + API_PREFIX + path, data, headers,
                                         timeout or self.timeout)
        except (http.client.HTTPException, OSError) as exc:
            raise TransientError(f"{what}: {exc}") from None
        if not 200 <= status < 300:
            raise error_from_status(status, raw, what)
        if status == 204 or not raw.strip():
            return status, {}
        try:
            return status, json.loads(raw)
        except ValueError:
            raise TransientError(f"{what}: the answer is not JSON") from None

    def _exchange(self, method: str, target: str, data: bytes | None, headers: dict,
                  timeout: float) -> tuple[int, bytes]:
        if self._proxied:
            return self._through_proxy(method, target, data, headers, timeout)
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            try:
                return self._send(connection, method, target, data, headers, timeout)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                pass
        return self._send(self._connect(timeout), method, target, data, headers, timeout)

    def _through_proxy(self, method: str, target: str, data: bytes | None, headers: dict,
                       timeout: float) -> tuple[int, bytes]:
        url = urllib.parse.urljoin(self.base_url, target)
        request = urllib.request.Request(url, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, _read_quietly(exc)
        except urllib.error.URLError as exc:
            raise ConnectionError(str(exc.reason)) from None

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        """A new connection without Nagle's delay: http.client sends headers and body apart."""
        kind = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        connection = kind(self._host, self._port, timeout=timeout)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def _send(self, connection: http.client.HTTPConnection, method: str, target: str, data: bytes | None,
              headers: dict, timeout: float) -> tuple[int, bytes]:
        self._local.connection = None
        try:
            connection.timeout = timeout
            if connection.sock is not None:
                connection.sock.settimeout(timeout)
            connection.request(method, target, body=data, headers=headers)
            response = connection.getresponse()
            raw = response.read()
        except BaseException:
            connection.close()
            raise
        if response.will_close:
            connection.close()
        else:
            self._local.connection = connection
        return response.status, raw

    def call(self, method: str, path: str, body: Any = None, *, timeout: float | None = None,
             stop: threading.Event | None = None, attempts: int | None = None) -> tuple[int, dict]:
        """Like `request`, retrying transient failures until it works, `stop` is set or `attempts` run out."""
        backoff, tries = Backoff(), 0
        while True:
            try:
                return self.request(method, path, body, timeout=timeout)
            except TransientError as exc:
                tries += 1
                if (attempts is not None and tries >= attempts) or (stop is not None and stop.is_set()):
                    raise
                delay = backoff.next()
                log.warning("%s; retrying in %.1f s", exc, delay)
                if stop is not None:
                    if stop.wait(delay):
                        raise
                else:
                    time.sleep(delay)

    def download(self, url: str, timeout: float = 60.0) -> bytes:
        request = urllib.request.Request(urllib.parse.urljoin(self.base_url + "/", url),
                                         headers={"User-Agent": f"devops-agent/{AGENT_VERSION}"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            raise error_from_status(exc.code, _read_quietly(exc), f"GET {url}") from None
        except (urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            raise TransientError(f"GET {url}: {getattr(exc, 'reason', exc)}") from None


def _read_quietly(response: Any) -> bytes:
    try:
        return response.read() or b""
    except (OSError, http.client.HTTPException):
        return b""


class JobApi:
    """One job's calls to the server. Results and logs are retried forever; 4xx raise."""

    def __init__(self, client: ApiClient, job_id: str):
        self.client = client
        self.path = f"jobs/{urllib.parse.quote(job_id, safe='')}/"
        self.columns = False

    def next_step(self, runner: dict, completed: list[dict]) -> dict:
        reported: list[dict] | dict | None = completed[0] if len(completed) == 1 else completed or None
        body = {"runner": runner, "completed": reported}
        return self.client.call("POST", self.path + "steps/next", body)[1]

    def progress(self, completed: list[dict], running: dict) -> dict:
        """One try: a follower step from `then` is still running (the server marks it running)."""
        body = {"completed": completed, "running": running}
        return self.client.request("POST", self.path + "steps/progress", body)[1]

    def send_logs(self, lines: list[dict]) -> dict:
        """A batch, in column form once the server said it takes it (protocol 1.3)."""
        columns = log_columns(lines) if self.columns and lines else None
        body = {"columns": columns} if columns is not None else {"lines": lines}
        answer = self.client.request("POST", self.path + "logs", body)[1]
        self.columns = self.columns or answer.get("columns") is True
        return answer

    def upload_report(self, kind: str, path: str, content: bytes, step: int) -> dict:
        """A report a step named with `::upload-report`; a few tries, then the caller warns."""
        encoded = base64.b64encode(content).decode("ascii")
        body = {"type": kind, "path": path, "step": step, "content": encoded}
        return self.client.call("POST", self.path + "reports", body, attempts=REPORT_UPLOAD_ATTEMPTS)[1]

    def finish(self, status: str, error: str | None, lines: list[dict] | None = None,
               completed: list[dict] | None = None, runner: dict | None = None) -> dict:
        """End the job; `lines` are its last log lines and `completed` the reports of its last
        steps (handed out with `last`), stored by the same call, with the `runner` they ran on."""
        body = {"status": status, "error": error, "lines": lines or [], "completed": completed or None,
                "runner": runner}
        return self.client.call("POST", self.path + "finish", body)[1]


# ---------------------------------------------------------------------------------------------
# Configuration


def default_config_path() -> str:
    return os.environ.get("DEVOPS_AGENT_CONFIG") or os.path.expanduser("~/.devops-agent/agent.json")


def default_workdir() -> str:
    return os.environ.get("DEVOPS_AGENT_WORKDIR") or os.path.expanduser("~/.devops-agent/work")


def load_config(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        config = json.load(handle)
    missing = [key for key in ("url", "agent_id", "secret") if not config.get(key)]
    if missing:
        raise ValueError(f"{path} lacks {', '.join(missing)}")
    return config


def save_config(path: str, config: dict) -> None:
    """Write the config atomically, readable by its owner only (it holds the agent's secret)."""
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, mode=0o700, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".agent-", suffix=".json")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(config, handle, indent=2)
            handle.write("\n")
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


# ---------------------------------------------------------------------------------------------
# Masking secrets


def secret_variants(secret: str) -> set[str]:
    """The secret as it may appear in a log: plain, inside base64 text, URL-encoded."""
    variants = {secret}
    raw = secret.encode("utf-8")
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            encoded = encode(b"\0" * offset + raw).decode("ascii")
            start, end = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
            piece = encoded[start:end]
            if len(piece) >= MIN_DERIVED_SECRET:
                variants.add(piece)
    for quote in (urllib.parse.quote, urllib.parse.quote_plus):
        variants.add(quote(secret, safe=""))
    return variants


class Masker:
    """Replaces every registered secret (and its encoded forms, and each line of a multi-line
    one) with `***`. Thread-safe. `mask_texts` masks a batch as one text: one C-level search per
    variant instead of one per line, which keeps the cost low with many secrets."""

    def __init__(self, values: list[str] | tuple[str, ...] = ()):
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._needles: tuple[str, ...] = ()
        self._single_line: tuple[str, ...] = ()
        for value in values:
            self.add(value)

    def add(self, value: Any) -> None:
        if value is None:
            return
        value = str(value)
        parts = [value] + [line.strip("\r") for line in value.split("\n") if len(line.strip()) >= 4]
        new = set()
        for part in parts:
            if part.strip():
                new |= secret_variants(part)
        with self._lock:
            if new <= self._values:
                return
            self._values |= new
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(item) for item in ordered))
            self._needles = tuple(ordered)
            self._single_line = tuple(item for item in ordered if "\n" not in item)

    def mask(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(MASK, text) if pattern is not None and text else text

    def mask_texts(self, texts: list[str]) -> list[str]:
        """Each text masked as `mask` would; texts without a newline are searched together."""
        needles = self._single_line
        if not needles or not texts:
            return list(texts)
        joined = "\n".join(texts)
        if joined.count("\n") != len(texts) - 1:
            return [self.mask(text) for text in texts]
        for needle in needles:
            if needle in joined:
                joined = joined.replace(needle, MASK)
        return joined.split("\n")


# ---------------------------------------------------------------------------------------------
# Output lines, workflow commands and the step's command files


class LineSplitter:
    """Bytes in, text lines out: handles CRLF, invalid UTF-8 and splits lines over `max_bytes`."""

    def __init__(self, max_bytes: int = MAX_LINE_BYTES):
        self.max_bytes = max_bytes
        self._buffer = bytearray()

    def feed(self, chunk: bytes) -> list[str]:
        self._buffer += chunk
        lines = []
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                while len(self._buffer) >= self.max_bytes:
                    lines.append(self._cut(self.max_bytes))
                return lines
            piece = bytes(self._buffer[:end])
            del self._buffer[: end + 1]
            lines.extend(self._split_long(piece))

    def flush(self) -> list[str]:
        piece, self._buffer = bytes(self._buffer), bytearray()
        return self._split_long(piece) if piece else []

    def _split_long(self, piece: bytes) -> list[str]:
        if piece.endswith(b"\r"):
            piece = piece[:-1]
        parts = []
        while len(piece) > self.max_bytes:
            cut = utf8_boundary(piece, self.max_bytes)
            parts.append(piece[:cut].decode("utf-8", "replace"))
            piece = piece[cut:]
        parts.append(piece.decode("utf-8", "replace"))
        return parts

    def _cut(self, limit: int) -> str:
        cut = utf8_boundary(bytes(self._buffer[: limit + 1]), limit)
        text = bytes(self._buffer[:cut]).decode("utf-8", "replace")
        del self._buffer[:cut]
        return text


def utf8_boundary(data: bytes, limit: int) -> int:
    """The largest cut <= limit that does not split a UTF-8 character."""
    if limit >= len(data):
        return len(data)
    cut = limit
    while cut > limit - 4 and cut > 0 and (data[cut] & 0xC0) == 0x80:
        cut -= 1
    return cut if cut > 0 and (data[cut] & 0xC0) != 0x80 else limit


class WorkflowCommand(NamedTuple):
    name: str
    properties: dict[str, str]
    data: str
    legacy: bool = False


_COMMAND = re.compile(r"^\s*::([A-Za-z][\w-]*)(?:\s+(.*?))?::(.*)$")
_LEGACY_COMMAND = re.compile(r"^\s*##\[([A-Za-z][\w-]*)(?:\s+(.*?))?\](.*)$")


def unescape_data(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%25", "%")


def unescape_property(text: str) -> str:
    text = text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",")
    return text.replace("%25", "%")


def parse_workflow_command(line: str) -> WorkflowCommand | None:
    """`::name k=v,k2=v2::data` (or the older `##[name k=v;k2=v2]data`), else None."""
    match, separator, legacy = _COMMAND.match(line), ",", False
    if match is None:
        match, separator, legacy = _LEGACY_COMMAND.match(line), ";", True
        if match is None:
            return None
    properties = {}
    for item in (match.group(2) or "").split(separator):
        name, equals, value = item.partition("=")
        if equals and name.strip():
            properties[name.strip()] = unescape_property(value)
    return WorkflowCommand(match.group(1).lower(), properties, unescape_data(match.group(3)), legacy)


class CommandProcessor:
    """Acts on workflow commands in a step's output and returns the line to log."""

    def __init__(self, masker: Masker, outputs: dict[str, str], metrics: dict[str, Any],
                 reports: list[tuple[str, str]] | None = None):
        self.masker = masker
        self.outputs = outputs
        self.metrics = metrics
        self.reports = reports if reports is not None else []
        self._stop_token: str | None = None

    def process_all(self, lines: list[str]) -> list[str]:
        return [self.process(line) for line in lines]

    def process(self, line: str) -> str:
        if self._stop_token is None and "::" not in line and "##[" not in line:
            return line  # no workflow command: the common case, without a regex
        if self._stop_token is not None:
            if line.strip() == f"::{self._stop_token}::":
                self._stop_token = None
            return line
        command = parse_workflow_command(line)
        if command is None:
            return line
        if command.name == "add-mask":
            self.masker.add(command.data)
            return "##[add-mask]" + MASK if command.legacy else "::add-mask::" + MASK
        name = command.properties.get("name")
        if command.name == "set-output" and name:
            self.outputs[name] = command.data
        elif command.name in ("set-metric", "set-gate-value") and name:
            self.metrics[name] = metric_value(command.data)
        elif command.name == "upload-report":
            self.reports.append((command.properties.get("type", "").strip().lower(), command.data.strip()))
        elif command.name == "stop-commands" and command.data:
            self._stop_token = command.data
        return line


class FileCommandError(ValueError):
    """A command file ($DEVOPS_OUTPUT, $DEVOPS_ENV, ...) the step wrote is malformed."""


def parse_key_values(text: str) -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` heredocs, in GitHub Actions' format."""
    values: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line.strip():
            continue
        equals, heredoc = line.find("="), line.find("<<")
        if heredoc > 0 and (equals < 0 or heredoc < equals):
            name, delimiter = line[:heredoc], line[heredoc + 2:]
            if not delimiter:
                raise FileCommandError(f"{name}: a heredoc needs a delimiter after '<<'")
            body = []
            while index < len(lines) and lines[index] != delimiter:
                body.append(lines[index])
                index += 1
            if index >= len(lines):
                raise FileCommandError(f"{name}: matching delimiter {delimiter!r} not found")
            index += 1
            values[name] = "\n".join(body)
        elif equals > 0:
            values[line[:equals]] = line[equals + 1:]
        else:
            raise FileCommandError(f"invalid line {line[:80]!r}: expected name=value or name<<DELIMITER")
    return values


def parse_path_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def metric_value(text: str) -> int | float | str:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return text
    return number if number == number and abs(number) != float("inf") else text


class StepFiles:
    """The fresh command files a step may write: outputs, env, path and metrics."""

    VARIABLES = {"output": ("DEVOPS_OUTPUT", "GITHUB_OUTPUT"), "env": ("DEVOPS_ENV", "GITHUB_ENV"),
                 "path": ("DEVOPS_PATH", "GITHUB_PATH"), "metrics": ("DEVOPS_METRICS",)}

    def __init__(self, directory: str, tag: str):
        os.makedirs(directory, exist_ok=True)
        self.paths = {kind: os.path.join(directory, f"{tag}-{kind}") for kind in self.VARIABLES}
        for path in self.paths.values():
            open(path, "w").close()

    def environment(self) -> dict[str, str]:
        return {name: self.paths[kind] for kind, names in self.VARIABLES.items() for name in names}

    def read(self, kind: str) -> str:
        with open(self.paths[kind], encoding="utf-8", errors="replace", newline="") as handle:
            return handle.read()

    def remove(self) -> None:
        for path in self.paths.values():
            if os.path.exists(path):
                os.unlink(path)


# ---------------------------------------------------------------------------------------------
# Processes: one process group per step, killed as a whole


def group_has_live_members(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    if not os.path.isdir("/proc"):
        return True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


class ProcessGroup:
    """A step's process and everything it started in the same group."""

    def __init__(self, process: subprocess.Popen):
        self.process = process
        self.pgid = process.pid

    def alive(self) -> bool:
        self.process.poll()
        return group_has_live_members(self.pgid)

    def terminate(self, grace: float = KILL_GRACE_SECONDS) -> None:
        """SIGTERM to the whole group, SIGKILL after `grace` seconds if anything is left."""
        if not self._signal(signal.SIGTERM) or self._wait_gone(grace):
            return
        if self._signal(signal.SIGKILL):
            self._wait_gone(0.5)

    def _wait_gone(self, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if not self.alive():
                return True
            time.sleep(0.02)
        return not self.alive()

    def _signal(self, signum: int) -> bool:
        try:
            os.killpg(self.pgid, signum)
            return True
        except (ProcessLookupError, PermissionError):
            return False


class Watchdog:
    """Kills a process group when its time is up or when `cancel` is set."""

    def __init__(self, group: ProcessGroup, cancel: threading.Event | None, timeout: float | None):
        self.group = group
        self.cancel = cancel
        self.deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        self.reason: str | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name=f"watchdog-{group.pgid}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.is_set():
            if self.cancel is not None and self.cancel.is_set():
                self.reason = "canceled"
            elif self.deadline is not None and time.monotonic() >= self.deadline:
                self.reason = "timed_out"
            if self.reason:
                self.group.terminate()
                return
            self._done.wait(0.05)


class ProcessResult:
    """How a process ended: its exit code, and `timed_out`/`canceled` when it was killed."""

    def __init__(self, exit_code: int | None, stopped: str | None = None):
        self.exit_code = exit_code
        self.stopped = stopped

    @property
    def status(self) -> str:
        if self.stopped:
            return self.stopped
        return "succeeded" if self.exit_code == 0 else "failed"


def run_process(argv: list[str], *, cwd: str, env: dict[str, str], on_lines: Callable[[list[str]], None],
                cancel: threading.Event | None = None, timeout: float | None = None,
                on_start: Callable[[ProcessGroup], None] | None = None) -> ProcessResult:
    """Run argv in a new session, feed its output lines (stdout and stderr merged) to on_lines, as
    many as each read brings."""
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
    group = ProcessGroup(process)
    if on_start is not None:
        on_start(group)
    watchdog = Watchdog(group, cancel, timeout)
    watchdog.start()
    try:
        pump_output(process, on_lines)
        process.wait()
    except BaseException:
        group.terminate()
        raise
    finally:
        watchdog.stop()
    return ProcessResult(process.returncode, watchdog.reason)


def pump_output(process: subprocess.Popen, on_lines: Callable[[list[str]], None]) -> None:
    """Read until end of output, or until OUTPUT_DRAIN_SECONDS after the process exited
    (a background child may hold the pipe open)."""
    splitter = LineSplitter()
    stream = process.stdout
    assert stream is not None
    descriptor = stream.fileno()
    exited_at = None
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while True:
            if selector.select(0.1):
                chunk = os.read(descriptor, 65536)
                if not chunk:
                    break
                if lines := splitter.feed(chunk):
                    on_lines(lines)
            if process.poll() is not None:
                exited_at = exited_at or time.monotonic()
                if time.monotonic() - exited_at >= OUTPUT_DRAIN_SECONDS:
                    break
    if lines := splitter.flush():
        on_lines(lines)
    stream.close()


SHELLS = {
    "bash": "bash --noprofile --norc -eo pipefail {0}",
    "sh": "sh -e {0}",
    "python": "python3 {0}",
    "pwsh": "pwsh -command \". '{0}'\"",
    "powershell": "pwsh -command \". '{0}'\"",
}
SCRIPT_SUFFIXES = {"python": ".py", "pwsh": ".ps1", "powershell": ".ps1"}


def shell_template(shell: str | None, search_path: str | None = None) -> str:
    """The command template for a step's `shell`: a known name or a custom template with {0}."""
    name = (shell or "bash").strip()
    key = name.lower()
    if key not in SHELLS:
        if "{0}" not in name:
            raise ValueError(f"unknown shell {name!r}: use bash, sh, python, pwsh or a command with {{0}}")
        return name
    if key == "bash" and shutil.which("bash", path=search_path) is None:
        return SHELLS["sh"]
    if key == "python" and shutil.which("python3", path=search_path) is None:
        return shlex.quote(sys.executable) + " {0}"
    if key == "powershell" and shutil.which("pwsh", path=search_path) is None:
        return SHELLS["powershell"].replace("pwsh", "powershell", 1)
    return SHELLS[key]


def shell_argv(template: str, script_path: str) -> list[str]:
    return [part.replace("{0}", script_path) for part in shlex.split(template)]


def write_script(directory: str, script: str, shell: str | None, tag: str) -> str:
    suffix = SCRIPT_SUFFIXES.get((shell or "bash").strip().lower(), ".sh")
    descriptor, path = tempfile.mkstemp(dir=directory, prefix=f"step-{tag}-", suffix=suffix)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(script if script.endswith("\n") else script + "\n")
    return path


# ---------------------------------------------------------------------------------------------
# Logs: numbered, batched, one batch in flight, spooled to disk while the server is away


class Spool:
    """Batches the server has not taken yet, in order, one JSON line each; removed when empty."""

    def __init__(self, path: str):
        self.path = path
        self._file: Any = None
        self._read_offset = 0
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, batch: list[dict]) -> None:
        if self._file is None:
            self._file = open(self.path, "a+b")
        self._file.write(json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n")
        self._file.flush()
        self._count += 1

    def peek(self) -> list[dict]:
        self._file.seek(self._read_offset)
        return json.loads(self._file.readline())

    def pop(self) -> None:
        self._file.seek(self._read_offset)
        self._read_offset += len(self._file.readline())
        self._count -= 1
        if self._count == 0:
            self.remove()

    def remove(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._read_offset = self._count = 0
        if os.path.exists(self.path):
            os.unlink(self.path)


class BatchSizer:
    """How many lines a log batch may hold: as many as the server stored in about `target` seconds
    on the batches before, between `least` and `most`. A server with time to spare gets full
    batches (the most lines per second); a busy one, shared by several jobs printing at full speed,
    gets smaller ones, so a line waits for a short round trip rather than a long one (bench/live.py).
    """

    def __init__(self, most: int, least: int = LOG_BATCH_MIN_LINES, target: float = LOG_BATCH_TARGET_SECONDS):
        self.most, self.least, self.target = most, min(least, most), target
        self.lines = most

    def note(self, count: int, seconds: float) -> None:
        """A batch of `count` lines took `seconds` to store. Only a full batch says the server could
        take more; any batch that took longer than the target says it takes too long."""
        if count < self.lines and seconds <= self.target:
            return
        rate = count / seconds if seconds > 0 else float("inf")
        wanted = int(max(self.least, min(self.most, rate * self.target)))
        self.lines += (wanted - self.lines + (wanted > self.lines)) // 2  # halfway, rounded towards it


class LogShipper:
    """Numbers a job's lines from 1 and sends them in batches through `send(lines) -> answer`.

    A batch leaves once its oldest line has waited `interval` seconds, or as soon as a batch's worth
    of lines (at most `batch_lines`, see BatchSizer, or `batch_chars` characters) wait; one batch
    is in flight at a time, and one waits. When `send` raises a connection error
    the batch (and every later one) goes to the spool file and is resent in order with backoff.
    A `RequestRejected` stops shipping and calls `on_rejected`; `cancel: true` calls `on_cancel`.
    """

    def __init__(self, send: Callable[[list[dict]], dict], spool_path: str, *,
                 batch_lines: int = LOG_BATCH_LINES, batch_chars: int = LOG_BATCH_CHARS,
                 interval: float = LOG_BATCH_INTERVAL, max_pending_lines: int = LOG_MAX_PENDING_LINES,
                 max_pending_chars: int = LOG_MAX_PENDING_CHARS,
                 backoff: Backoff | None = None, on_cancel: Callable[[], None] | None = None,
                 on_rejected: Callable[[RequestRejected], None] | None = None,
                 mask_texts: Callable[[list[str]], list[str]] | None = None):
        self.send = send
        self.mask_texts = mask_texts
        self.spool = Spool(spool_path)
        self.sizer = BatchSizer(batch_lines)
        self.batch_chars = batch_chars
        self.interval = interval
        self.max_pending_lines = max_pending_lines
        self.max_pending_chars = max_pending_chars
        self.backoff = backoff or Backoff()
        self.on_cancel = on_cancel
        self.on_rejected = on_rejected
        self.last_seq = 0
        self.stored_through = 0
        self.rejected: RequestRejected | None = None
        self._pending: list[dict] = []
        self._pending_chars = 0
        self._oldest_at = 0.0  # when the oldest waiting line was read (monotonic)
        self._condition = threading.Condition()
        self._closing = False
        self._detaching = False
        self._aborted = False
        self._retry_at = 0.0
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)

    def start(self) -> LogShipper:
        self._thread.start()
        return self

    def add(self, text: str, *, step: int | None = None, stream: str = "stdout") -> int:
        return self.add_many([text], step=step, stream=stream)

    def add_many(self, texts: list[str], *, step: int | None = None, stream: str = "stdout") -> int:
        """Number and queue lines read together (one time stamp); blocks while the pending lines
        are at their limit. Returns the last seq given."""
        start = 0
        while start < len(texts):
            with self._condition:
                while self._pending_full() and not (self._aborted or self.rejected):
                    self._condition.wait(0.1)
                room = min(self.max_pending_lines, self.sizer.lines) - len(self._pending)
                piece = texts[start:start + max(room, 1)]
                stamp, first = utc_now(), self.last_seq + 1
                if not self._pending:
                    self._oldest_at = time.monotonic()
                self._pending += [{"seq": seq, "ts": stamp, "step": step, "text": text, "stream": stream}
                                  for seq, text in enumerate(piece, first)]
                self.last_seq += len(piece)
                self._pending_chars += sum(map(len, piece))
                if len(self._pending) >= self.sizer.lines:
                    self._condition.notify_all()
            start += len(piece)
        return self.last_seq

    def _pending_full(self) -> bool:
        lines = min(self.max_pending_lines, self.sizer.lines)
        return len(self._pending) >= lines or self._pending_chars >= self.max_pending_chars

    def close(self, timeout: float | None = None) -> bool:
        """Send everything still waiting; True when the server stored every line."""
        with self._condition:
            self._closing = True
            self._condition.notify_all()
        self._thread.join(timeout)
        return self.rejected is None and self.stored_through >= self.last_seq

    def detach(self) -> list[dict]:
        """Deliver what is already on its way (spool, batch in flight), stop, and hand back the
        lines still waiting, for the caller to send with its own call (the job's `finish`)."""
        with self._condition:
            self._detaching = True
            self._condition.notify_all()
        self._thread.join()
        with self._condition:
            lines, self._pending, self._pending_chars = self._pending, [], 0
        return self._masked(lines)

    def acknowledge(self, stored_through: int) -> None:
        self.stored_through = max(self.stored_through, stored_through)

    def abort(self) -> None:
        with self._condition:
            self._aborted = True
            self._condition.notify_all()
        self._thread.join()
        self.spool.remove()

    def _run(self) -> None:
        while not self._finished():
            batch = self._take_batch()
            if self._aborted:
                return
            if batch and len(self.spool) == 0:
                self._send_or_spool(batch)
            elif batch:
                self.spool.append(batch)
            self._drain_spool()

    def _finished(self) -> bool:
        with self._condition:
            if self._aborted or self.rejected is not None:
                return True
            if self._detaching:
                return len(self.spool) == 0
            return self._closing and not self._pending and len(self.spool) == 0

    def _take_batch(self) -> list[dict]:
        with self._condition:
            idle_until = time.monotonic() + self.interval
            while not self._batch_ready() and not self._detaching:
                deadline = self._oldest_at + self.interval if self._pending else idle_until
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._condition.wait(remaining)
            if self._detaching:
                if len(self.spool):
                    self._condition.wait(max(self._retry_at - time.monotonic(), 0.0))
                return []
            count = chars = 0
            for line in self._pending[: self.sizer.lines]:
                size = len(line["text"])
                if count and chars + size > self.batch_chars:
                    break
                count, chars = count + 1, chars + size
            batch = self._pending[:count]
            del self._pending[:count]
            self._pending_chars -= chars
            self._condition.notify_all()
        return self._masked(batch)

    def _masked(self, batch: list[dict]) -> list[dict]:
        if batch and self.mask_texts is not None:
            for line, text in zip(batch, self.mask_texts([line["text"] for line in batch]), strict=True):
                line["text"] = text
        return batch

    def _batch_ready(self) -> bool:
        if self._aborted or len(self._pending) >= self.sizer.lines or self._pending_chars >= self.batch_chars:
            return True
        return self._closing and bool(self._pending)

    def _send_or_spool(self, batch: list[dict]) -> None:
        if not self._deliver(batch) and self.rejected is None:
            self.spool.append(batch)
            self._retry_at = time.monotonic() + self.backoff.next()

    def _drain_spool(self) -> None:
        while len(self.spool) and self.rejected is None and not self._aborted:
            if time.monotonic() < self._retry_at:
                return
            if not self._deliver(self.spool.peek()):
                self._retry_at = time.monotonic() + self.backoff.next()
                return
            self.spool.pop()

    def _deliver(self, batch: list[dict]) -> bool:
        try:
            started = time.monotonic()
            answer = self.send(batch) or {}
            self.sizer.note(len(batch), time.monotonic() - started)
        except RequestRejected as exc:
            self.rejected = exc
            if self.on_rejected is not None:
                self.on_rejected(exc)
            return False
        except OSError as exc:
            log.debug("log batch %d-%d not sent: %s", batch[0]["seq"], batch[-1]["seq"], exc)
            return False
        except Exception:
            log.exception("log batch %d-%d not sent", batch[0]["seq"], batch[-1]["seq"])
            return False
        self.backoff.reset()
        stored = answer.get("stored_through")
        stored = stored if isinstance(stored, int) else batch[-1]["seq"]
        self.stored_through = max(self.stored_through, stored)
        if answer.get("cancel") and self.on_cancel is not None:
            self.on_cancel()
        return True


# ---------------------------------------------------------------------------------------------
# Running steps


class JobPaths:
    """Where a job lives: its workspace, and a state directory (temp, command files, credentials,
    log spool) that is removed when the job ends."""

    def __init__(self, workdir: str, workspace: str, state: str):
        self.workspace = workspace
        self.state = state
        self.temp = os.path.join(state, "tmp")
        self.files = os.path.join(state, "files")
        self.credentials = os.path.join(state, "credentials")
        self.tool_cache = os.path.join(workdir, STATE_DIR_NAME, "tool-cache")

    @classmethod
    def create(cls, workdir: str, workspace: str, job_id: str, attempt: int = 1) -> JobPaths:
        workdir = os.path.abspath(workdir)
        state = os.path.join(workdir, STATE_DIR_NAME, "jobs", re.sub(r"[^\w.-]", "_", f"{job_id}-{attempt}"))
        shutil.rmtree(state, ignore_errors=True)
        paths = cls(workdir, workspace_path(workdir, workspace), state)
        for directory in (paths.workspace, paths.temp, paths.files, paths.tool_cache):
            os.makedirs(directory, exist_ok=True)
        os.makedirs(paths.credentials, mode=0o700, exist_ok=True)
        return paths

    @property
    def spool(self) -> str:
        return os.path.join(self.state, "logs.spool")

    def remove_state(self) -> None:
        shutil.rmtree(self.state, ignore_errors=True)


def workspace_path(workdir: str, relative: str) -> str:
    relative = str(relative).replace("\\", "/")
    parts = [part for part in relative.split("/") if part not in ("", ".")]
    inside = parts and not relative.startswith("/") and ".." not in parts and ":" not in parts[0]
    if not inside or parts[0] == STATE_DIR_NAME:
        raise ValueError(f"refusing workspace {relative!r}: not a relative path inside the work directory")
    return os.path.join(workdir, *parts)


class StepError(Exception):
    """A step could not run at all (unknown shell, missing directory, ...)."""


class StepResult:
    """What the agent reports about a step in `completed`."""

    def __init__(self, index: int, attempt: int, started_at: str = ""):
        self.index = index
        self.attempt = attempt
        self.status = "failed"
        self.exit_code: int | None = None
        self.started_at = started_at
        self.finished_at = ""
        self.outputs: dict[str, str] = {}
        self.env: dict[str, str] = {}
        self.path: list[str] = []
        self.metrics: dict[str, Any] = {}
        self.reports: list[tuple[str, str]] = []  # (type, path) of `::upload-report`, sent by the agent

    def as_completed(self) -> dict:
        return {"index": self.index, "attempt": self.attempt, "status": self.status,
                "exit_code": self.exit_code, "started_at": self.started_at, "finished_at": self.finished_at,
                "outputs": self.outputs, "env": self.env, "path": self.path, "metrics": self.metrics}


class GitCredentials:
    """Temporary credential files for one checkout: an askpass script or an SSH key (mode 0600)."""

    def __init__(self, spec: dict, directory: str):
        self.files: list[str] = []
        self.env = {"GIT_TERMINAL_PROMPT": "0"}
        if spec.get("password"):
            askpass = self._write(directory, "askpass.sh", ASKPASS_SCRIPT, 0o700)
            self.env.update({"GIT_ASKPASS": askpass, "DEVOPS_GIT_PASSWORD": str(spec["password"]),
                             "DEVOPS_GIT_USERNAME": str(spec.get("username") or "x-access-token")})
        if spec.get("ssh_key"):
            key = str(spec["ssh_key"])
            path = self._write(directory, "ssh-key", key if key.endswith("\n") else key + "\n", 0o600)
            batch = "-o BatchMode=yes"
            if spec.get("ssh_passphrase"):  # ssh reads it from SSH_ASKPASS (BatchMode would forbid that)
                askpass = self._write(directory, "ssh-askpass.sh", SSH_ASKPASS_SCRIPT, 0o700)
                self.env.update({"SSH_ASKPASS": askpass, "SSH_ASKPASS_REQUIRE": "force", "DISPLAY": ":0",
                                 "DEVOPS_SSH_PASSPHRASE": str(spec["ssh_passphrase"])})
                batch = "-o NumberOfPasswordPrompts=1"
            self.env["GIT_SSH_COMMAND"] = (f"ssh -i {shlex.quote(path)} -o IdentitiesOnly=yes {batch} "
                                           "-o StrictHostKeyChecking=accept-new")

    def _write(self, directory: str, name: str, content: str, mode: int) -> str:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        descriptor, path = tempfile.mkstemp(dir=directory, prefix=f".{name}-")
        os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        self.files.append(path)
        return path

    def remove(self) -> None:
        for path in self.files:
            if os.path.exists(path):
                os.unlink(path)
        self.files.clear()


ASKPASS_SCRIPT = """#!/bin/sh
case "$1" in
  [Uu]sername*) printf '%s\\n' "$DEVOPS_GIT_USERNAME" ;;
  *) printf '%s\\n' "$DEVOPS_GIT_PASSWORD" ;;
esac
"""


SSH_ASKPASS_SCRIPT = """#!/bin/sh
printf '%s\\n' "$DEVOPS_SSH_PASSPHRASE"
"""


def display_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


class StepExecutor:
    """Runs one job's steps on this machine and carries what they export to the next ones."""

    def __init__(self, *, paths: JobPaths, runner_name: str, masker: Masker,
                 write_line: Callable[[str, int | None, str], None], job_env: dict | None = None,
                 job_checkout: dict | None = None, cancel: threading.Event | None = None,
                 upload_report: Callable[[str, str, bytes, int], dict] | None = None,
                 write_lines: Callable[[list[str], int | None], None] | None = None):
        self.paths = paths
        self.upload_report = upload_report
        self.runner_name = runner_name
        self.write_line = write_line
        self.write_lines = write_lines or self._write_each
        self.masker = masker
        self.job_env = string_env(job_env)
        self.job_checkout = job_checkout
        self.cancel = cancel
        self.exported_env: dict[str, str] = {}
        self.path_entries: list[str] = []
        self.groups: list[ProcessGroup] = []

    def _write_each(self, lines: list[str], index: int | None) -> None:
        for line in lines:
            self.write_line(line, index, "stdout")

    def run(self, step: dict, *, timeout: float | None = None) -> StepResult:
        result = StepResult(int(step.get("index") or 0), int(step.get("attempt") or 1), utc_now())
        for value in step.get("mask") or []:
            self.masker.add(value)
        kind = step.get("kind") or "run"
        try:
            if kind == "checkout":
                outcome = self._run_checkout(step, result, timeout)
            elif kind == "run":
                outcome = self._run_script(step, result, timeout)
            else:
                raise StepError(f"unknown step kind {kind!r}")
            result.exit_code, result.status = outcome.exit_code, outcome.status
        except StepError as exc:
            self._system(result.index, f"##[error]{exc}")
            result.status = "failed"
        result.finished_at = utc_now()
        return result

    def environment(self, step_env: dict | None = None, files: StepFiles | None = None) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items() if not name.startswith("DEVOPS_AGENT_")}
        for source in (self.job_env, self.exported_env, self._unmasked(string_env(step_env))):
            env.update(source)
        env.update(self.runner_env())
        if files is not None:
            env.update(files.environment())
        if self.path_entries:
            env["PATH"] = os.pathsep.join([*self.path_entries, env.get("PATH") or os.defpath])
        return env

    def _unmasked(self, step_env: dict[str, str]) -> dict[str, str]:
        """The server stores env that earlier steps exported with secrets masked, so it renders them
        masked: such a value is put back from what this agent read from the step's file."""
        for name, value in step_env.items():
            real = self.exported_env.get(name)
            if real is not None and value != real and value == self.masker.mask(real):
                step_env[name] = real
        return step_env

    def runner_env(self) -> dict[str, str]:
        workspace = self.paths.workspace
        return {"CI": "true", "DEVOPS_WORKSPACE": workspace, "GITHUB_WORKSPACE": workspace,
                "RUNNER_TEMP": self.paths.temp, "RUNNER_TOOL_CACHE": self.paths.tool_cache,
                "RUNNER_OS": runner_os(), "RUNNER_ARCH": runner_arch(), "RUNNER_NAME": self.runner_name}

    def kill_leftovers(self) -> None:
        """End processes a step left running in the background (its group outlives the step)."""
        for group in self.groups:
            if group_has_live_members(group.pgid):
                self._system(None, f"Cleaning up orphan processes of group {group.pgid}")
                group.terminate()
        self.groups.clear()

    def _run_script(self, step: dict, result: StepResult, timeout: float | None) -> ProcessResult:
        cwd = self._working_directory(step.get("working_directory"))
        tag = f"{result.index}-{result.attempt}"
        files = StepFiles(self.paths.files, tag)
        script_path = write_script(self.paths.temp, str(step.get("run") or ""), step.get("shell"), tag)
        try:
            env = self.environment(step.get("env"), files)
            try:
                template = shell_template(step.get("shell"), env.get("PATH"))
            except ValueError as exc:
                raise StepError(str(exc)) from None
            self._announce(result.index, step, str(step.get("run") or ""), template)
            commands = CommandProcessor(self.masker, result.outputs, result.metrics, result.reports)
            outcome = self._run(shell_argv(template, script_path), cwd, env, result.index, timeout,
                                lambda lines: self.write_lines(commands.process_all(lines), result.index))
            if not self._collect(files, result) and outcome.status == "succeeded":
                outcome = ProcessResult(outcome.exit_code or 1)
            for kind, path in result.reports:
                self._upload_report(result.index, kind, path, cwd)
            return outcome
        finally:
            files.remove()
            os.unlink(script_path)

    def _collect(self, files: StepFiles, result: StepResult) -> bool:
        try:
            result.outputs.update(parse_key_values(files.read("output")))
            result.env.update(parse_key_values(files.read("env")))
            result.path.extend(parse_path_lines(files.read("path")))
            result.metrics.update({name: metric_value(value)
                                   for name, value in parse_key_values(files.read("metrics")).items()})
        except FileCommandError as exc:
            self._system(result.index, f"##[error]{exc}")
            return False
        finally:
            self.exported_env.update(result.env)
            for entry in result.path:
                self.path_entries.insert(0, entry)
        return True

    def _run_checkout(self, step: dict, result: StepResult, timeout: float | None) -> ProcessResult:
        spec = step.get("checkout") or self.job_checkout
        if not isinstance(spec, dict) or not spec.get("url"):
            raise StepError("checkout step without a repository to check out")
        url = spec["url"]
        for secret in (spec.get("password"), spec.get("ssh_key"), spec.get("ssh_passphrase"),
                       urllib.parse.urlsplit(url).password):
            self.masker.add(secret)
        self._system(result.index, f"Checkout {display_url(url)} at {spec.get('sha') or spec.get('ref')}")
        credentials = GitCredentials(spec, self.paths.credentials)
        try:
            env = {**self.environment(step.get("env")), **credentials.env}
            deadline = None if timeout is None else time.monotonic() + timeout

            def git(*args: str) -> ProcessResult:
                remaining = None if deadline is None else deadline - time.monotonic()
                shown = " ".join(display_url(arg) if arg == spec["url"] else arg for arg in args)
                self._system(result.index, f"[command]git {shown}")
                argv = ["git", "-c", "init.defaultBranch=main", "-c", "advice.detachedHead=false",
                        "-c", "credential.helper=", *args]
                return self._run(argv, self.paths.workspace, env, result.index, remaining,
                                 lambda lines: self.write_lines(lines, result.index))

            return git_checkout(git, spec)
        finally:
            credentials.remove()

    def _run(self, argv: list[str], cwd: str, env: dict[str, str], index: int, timeout: float | None,
             on_lines: Callable[[list[str]], None]) -> ProcessResult:
        try:
            outcome = run_process(argv, cwd=cwd, env=env, on_lines=on_lines, cancel=self.cancel,
                                  timeout=timeout, on_start=self.groups.append)
        except OSError as exc:
            raise StepError(f"cannot start {argv[0]}: {exc.strerror or exc}") from None
        if outcome.stopped == "timed_out":
            self._system(index, f"##[error]The step timed out after {timeout:.0f} s; killed its processes")
        elif outcome.stopped == "canceled":
            self._system(index, "##[error]The step was canceled; its processes were killed")
        elif outcome.exit_code:
            self._system(index, f"##[error]Process completed with exit code {outcome.exit_code}.")
        return outcome

    def _upload_report(self, index: int, kind: str, path: str, cwd: str) -> None:
        """Send a report the step named (after the step, whatever its outcome); a problem is a
        warning in the log, never a failed step."""
        where = f"upload-report {kind or '(no type)'} {path or '(no path)'}"
        content = self._report_content(index, kind, path, cwd, where)
        if content is None:
            return
        if self.upload_report is None:
            self._system(index, f"##[warning]{where}: this agent has no server to send to")
            return
        try:
            answer = self.upload_report(kind, path, content, index)
        except RequestRejected as exc:
            self._system(index, f"##[warning]{where}: the server refused it: {exc.message}")
            return
        except TransientError as exc:
            self._system(index, f"##[warning]{where}: not uploaded ({exc})")
            return
        metrics = answer.get("metrics") or {}
        summary = ", ".join(f"{name}={value}" for name, value in metrics.items())
        self._system(index, f"Uploaded the {kind} report {path}" + (f": {summary}" if summary else ""))

    def _report_content(self, index: int, kind: str, path: str, cwd: str, where: str) -> bytes | None:
        if kind not in REPORT_TYPES:
            self._system(index, f"##[warning]{where}: type= must be one of {', '.join(REPORT_TYPES)}")
            return None
        if not path:
            self._system(index, f"##[warning]{where}: name the report's file after '::'")
            return None
        full = os.path.join(cwd, os.path.expanduser(path))
        try:
            if not os.path.isfile(full):
                self._system(index, f"##[warning]{where}: no such file")
                return None
            with open(full, "rb") as handle:
                content = handle.read(REPORT_MAX_BYTES + 1)
        except OSError as exc:
            self._system(index, f"##[warning]{where}: cannot read it ({exc.strerror or exc})")
            return None
        if len(content) > REPORT_MAX_BYTES:
            self._system(index, f"##[warning]{where}: larger than {REPORT_MAX_BYTES} bytes, not uploaded")
            return None
        return content

    def _working_directory(self, directory: str | None) -> str:
        if not directory:
            return self.paths.workspace
        path = os.path.join(self.paths.workspace, directory)
        if not os.path.isdir(path):
            raise StepError(f"working directory {directory!r} does not exist in the workspace")
        return path

    def _announce(self, index: int, step: dict, script: str, template: str) -> None:
        first_line = next(iter(script.strip().splitlines()), "")
        self._system(index, f"##[group]Run {first_line or step.get('name') or ''}")
        for line in script.rstrip("\n").splitlines():
            self._system(index, line)
        self._system(index, f"shell: {template}")
        self._system(index, "##[endgroup]")

    def _system(self, index: int | None, text: str) -> None:
        self.write_line(text, index, "system")


def git_checkout(git: Callable[..., ProcessResult], spec: dict) -> ProcessResult:
    """init, shallow fetch of the sha (or ref), checkout FETCH_HEAD; a full fetch of the ref if
    the server refuses to serve a bare sha."""
    url, sha, ref = spec["url"], spec.get("sha"), spec.get("ref")
    outcome = git("init", "-q", ".")
    if outcome.status != "succeeded":
        return outcome
    if not urllib.parse.urlsplit(url).password:
        git("config", "remote.origin.url", url)
    outcome = git("fetch", "--no-tags", "--depth=1", url, sha or ref or "HEAD")
    revision = "FETCH_HEAD"
    if outcome.status == "failed" and sha and ref:
        outcome = git("fetch", "--no-tags", url, ref)
        revision = sha
    if outcome.status != "succeeded":
        return outcome
    outcome = git("checkout", "--force", "--detach", revision)
    if outcome.status != "succeeded":
        return outcome
    return git("clean", "-ffdxq")


# ---------------------------------------------------------------------------------------------
# A job: steps in order, logs shipped, finish once every line is stored


class WorkspaceLocks:
    """Makes sure two running jobs never share a workspace directory."""

    def __init__(self) -> None:
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def acquire(self, relative: str) -> str:
        with self._lock:
            candidate, number = relative, 2
            while candidate in self._busy:
                candidate, number = f"{relative}@{number}", number + 1
            self._busy.add(candidate)
            return candidate

    def release(self, relative: str) -> None:
        with self._lock:
            self._busy.discard(relative)


STATUS_ORDER = {"succeeded": 0, "failed": 1, "timed_out": 2, "canceled": 3}


class JobRunner:
    """Runs one claimed job. `api` has next_step(runner, completed), send_logs(lines) and
    finish(status, error) (see JobApi)."""

    def __init__(self, job: dict, api: Any, *, workdir: str, runner_name: str,
                 workspace_locks: WorkspaceLocks | None = None, shipper_options: dict | None = None):
        self.job = job
        self.job_id = str(job["id"])
        self.api = api
        self.workdir = workdir
        self.runner_name = runner_name
        self.workspace_locks = workspace_locks or WorkspaceLocks()
        self.shipper_options = shipper_options or {}
        self.masker = Masker(job.get("mask") or [])
        self.cancel_event = threading.Event()
        self.stop_reason: str | None = None
        self.rejected: RequestRejected | None = None
        self.status: str | None = None
        self.paths: JobPaths | None = None
        self.shipper: LogShipper | None = None
        self.executor: StepExecutor | None = None
        self.final_reports: list[dict] = []
        self._workspace: str | None = None
        timeout = job.get("timeout_seconds")
        self._deadline = time.monotonic() + float(timeout) if timeout else None
        self._lock = threading.Lock()

    def cancel(self, reason: str = "canceled") -> None:
        self._stop(reason)
        self.cancel_event.set()

    def run(self) -> str:
        log.info("job %s (%s) started", self.job_id, self.job.get("name") or self.job.get("key") or "")
        try:
            try:
                self._prepare()
            except (OSError, ValueError) as exc:
                self.status = self._finish_unprepared(f"cannot prepare the job: {exc}")
                return self.status
            try:
                status, error = self._run_steps()
            except RequestRejected as exc:
                self.status = self._abandon(exc)
                return self.status
            except Exception as exc:
                log.exception("job %s: agent error", self.job_id)
                status, error = "failed", f"agent error: {exc!r}"
            finally:
                self._release_processes()
            self.status = self._finish(status, error)
            return self.status
        finally:
            if self._workspace is not None:
                self.workspace_locks.release(self._workspace)
            log.info("job %s ended: %s", self.job_id, self.status)

    def runner_info(self) -> dict:
        assert self.paths is not None
        paths = self.paths
        return {"os": runner_os(), "arch": runner_arch(), "name": self.runner_name,
                "workspace": paths.workspace, "temp": paths.temp, "tool_cache": paths.tool_cache}

    def write_lines(self, texts: list[str], step: int | None, stream: str = "stdout") -> None:
        """Queue lines read together: at once when none needs splitting, else one by one."""
        plain = all("\n" not in text and len(text) <= MAX_LINE_BYTES // 4 for text in texts)
        if plain and self.shipper is not None:
            self.shipper.add_many(texts, step=step, stream=stream)
            return
        for text in texts:
            self.write_line(text, step, stream)

    def write_line(self, text: str, step: int | None, stream: str = "stdout") -> None:
        """Queue a line; the shipper masks secrets batch by batch, before a line is sent or spooled."""
        if self.shipper is None:
            return
        if "\n" in text:
            text = self.masker.mask(text)
        if "\n" not in text and len(text) <= MAX_LINE_BYTES // 4:
            self.shipper.add(text, step=step, stream=stream)
            return
        for piece in LineSplitter().feed(text.encode("utf-8", "replace") + b"\n"):
            self.shipper.add(piece, step=step, stream=stream)

    def _prepare(self) -> None:
        job = self.job
        self._workspace = self.workspace_locks.acquire(str(job.get("workspace") or f"job-{self.job_id}"))
        self.paths = JobPaths.create(self.workdir, self._workspace, self.job_id, int(job.get("attempt") or 1))
        self.shipper = LogShipper(self.api.send_logs, self.paths.spool, on_cancel=self.cancel,
                                  on_rejected=self._on_rejected, mask_texts=self.masker.mask_texts,
                                  **self.shipper_options).start()
        self.executor = StepExecutor(paths=self.paths, runner_name=self.runner_name,
                                     write_line=self.write_line, write_lines=self.write_lines,
                                     masker=self.masker, job_env=job.get("env"),
                                     job_checkout=job.get("checkout"), cancel=self.cancel_event,
                                     upload_report=getattr(self.api, "upload_report", None))

    def _run_steps(self) -> tuple[str, str | None]:
        assert self.executor is not None
        completed: list[dict] = []
        worst, stop_reported = "succeeded", False
        offered = self.job.get("next")  # the first step, handed out with the claim (protocol 1.3)
        while True:
            self._check_rejected()
            if isinstance(offered, dict):
                answer, offered = offered, None
            else:
                answer = self.api.next_step(self.runner_info(), completed)
            self._check_rejected()
            if answer.get("cancel"):
                self._stop("canceled")
                return "canceled", "canceled by the server"
            step = None if answer.get("done") else answer.get("step")
            if self._job_expired():
                self._stop("timed_out")
            if self.stop_reason:
                if step and not stop_reported:
                    stop_reported = True
                    completed = [self._not_run(step).as_completed()]
                    continue
                return self.stop_reason, self._stop_message()
            if not step:
                return worst, None
            followers = answer.get("then") or []
            results = self._run_sequence(step, followers)
            result = results[-1]
            if result.status == "timed_out" and self._job_expired():
                self._stop("timed_out")
            stop_reported = result.status in ("timed_out", "canceled") and self.stop_reason is not None
            for each in results:
                if STATUS_ORDER.get(each.status, 1) > STATUS_ORDER[worst]:
                    worst = each.status
            completed = [each.as_completed() for each in results]
            if [step, *followers][len(results) - 1].get("last") and not self.stop_reason:
                self.final_reports = completed
                return worst, None

    def _run_sequence(self, step: dict, followers: list[dict]) -> list[StepResult]:
        """Run `step`, then the steps the server said may follow it (`then`), while each succeeds
        without exporting env or PATH and the job is not stopping. A follower still running after
        PROGRESS_AFTER_SECONDS is reported, so the server shows it running."""
        results = [self.executor.run(step, timeout=self._step_timeout(step))]
        for follower in followers:
            last = results[-1]
            if last.status != "succeeded" or last.env or last.path or self.stop_reason or self._job_expired():
                break
            done = [each.as_completed() for each in results]
            running = {"index": follower.get("index"), "attempt": follower.get("attempt") or 1,
                       "started_at": utc_now()}
            timer = threading.Timer(PROGRESS_AFTER_SECONDS, self._report_progress, (done, running))
            timer.daemon = True
            timer.start()
            try:
                results.append(self.executor.run(follower, timeout=self._step_timeout(follower)))
            finally:
                timer.cancel()
        return results

    def _report_progress(self, completed: list[dict], running: dict) -> None:
        try:
            answer = self.api.progress(completed, running)
        except (TransientError, RequestRejected) as exc:
            log.debug("job %s: progress not reported: %s", self.job_id, exc)
            return
        if answer.get("cancel"):
            self.cancel()

    def _not_run(self, step: dict) -> StepResult:
        """The step the server handed out when the job stopped between steps, reported unrun."""
        result = StepResult(int(step.get("index") or 0), int(step.get("attempt") or 1), utc_now())
        result.status, result.finished_at = self.stop_reason or "canceled", result.started_at
        self.write_line(f"##[error]Not run: {self._stop_message()}", result.index, "system")
        return result

    def _step_timeout(self, step: dict) -> float | None:
        limits = [float(step["timeout_seconds"])] if step.get("timeout_seconds") else []
        if self._deadline is not None:
            limits.append(max(self._deadline - time.monotonic(), 0.0))
        return min(limits) if limits else None

    def _job_expired(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline - 0.05

    def _stop(self, reason: str) -> None:
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason

    def _stop_message(self) -> str:
        if self.stop_reason == "timed_out":
            return f"the job timed out after {self.job.get('timeout_seconds')} s"
        return "the job was canceled"

    def _on_rejected(self, exc: RequestRejected) -> None:
        self.rejected = exc
        self.cancel_event.set()

    def _check_rejected(self) -> None:
        if self.rejected is not None:
            raise self.rejected

    def _release_processes(self) -> None:
        if self.executor is not None:
            self.executor.kill_leftovers()

    def _finish(self, status: str, error: str | None) -> str:
        assert self.shipper is not None and self.paths is not None
        self.write_line(f"Job finished: {status}" + (f" ({error})" if error else ""), None, "system")
        lines = self.shipper.detach()
        if self.shipper.rejected is not None:
            return self._abandon(self.shipper.rejected)
        try:
            answer = self.api.finish(status, error, lines, self.final_reports, runner=self.runner_info())
            if lines and not isinstance(answer.get("stored_through"), int):
                answer = self.api.send_logs(lines)  # a server older than protocol 1.1
            self.shipper.acknowledge(answer.get("stored_through") or 0)
        except RequestRejected as exc:
            log.error("job %s: the server refused finish (%s)", self.job_id, exc)
        if self.shipper.stored_through < self.shipper.last_seq:
            log.warning("job %s: the server acknowledged lines through %d of %d", self.job_id,
                        self.shipper.stored_through, self.shipper.last_seq)
        self.paths.remove_state()
        return status

    def _finish_unprepared(self, error: str) -> str:
        log.error("job %s: %s", self.job_id, error)
        try:
            self.api.finish("failed", error)
        except RequestRejected as exc:
            log.error("job %s: the server refused finish (%s)", self.job_id, exc)
        return "failed"

    def _abandon(self, exc: RequestRejected) -> str:
        log.error("job %s: the server refused a request (%s); stopping the job locally", self.job_id, exc)
        self.cancel_event.set()
        self._release_processes()
        if self.shipper is not None:
            self.shipper.abort()
        if self.paths is not None:
            self.paths.remove_state()
        return "failed"


# ---------------------------------------------------------------------------------------------
# Upgrades


class UpgradeError(Exception):
    """The offered agent could not be installed."""


class Upgrader:
    """Replaces this file with a verified new version and re-executes it."""

    def __init__(self, client: ApiClient, script_path: str, restart_args: list[str]):
        self.client = client
        self.script_path = script_path
        self.restart_args = restart_args

    def upgrade(self, offer: dict) -> None:
        data = self.client.download(str(offer["url"]))
        self.install(data, str(offer.get("sha256") or ""))
        log.info("upgraded to %s; restarting", offer.get("version"))
        self.restart()

    def install(self, data: bytes, sha256: str) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if not sha256 or digest != sha256.strip().lower():
            raise UpgradeError(f"sha256 mismatch: offered {sha256!r}, downloaded {digest}")
        try:
            compile(data, self.script_path, "exec")
        except SyntaxError as exc:
            raise UpgradeError(f"the downloaded agent is not valid Python: {exc}") from None
        directory = os.path.dirname(self.script_path)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".devops_agent-", suffix=".py")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, os.stat(self.script_path).st_mode & 0o777)
            os.replace(temporary, self.script_path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        return self.script_path

    def restart(self) -> None:
        logging.shutdown()
        os.execv(sys.executable, [sys.executable, self.script_path, *self.restart_args])


def own_script_path() -> str | None:
    path = globals().get("__file__")
    if not path or not os.path.isfile(path) or sys.argv[:1] in (["-"], ["-c"]):
        return None
    return os.path.abspath(path)


# ---------------------------------------------------------------------------------------------
# The agent: heartbeat thread, claim loop, one thread per job


class ClaimInterrupted(BaseException):
    """Raised by the signal handler to abandon a long poll when the agent stops."""


class Agent:
    """The long-running process: heartbeats, claims while a slot is free, runs jobs, upgrades."""

    def __init__(self, config: dict, *, workdir: str, once: bool = False,
                 restart_args: list[str] | None = None, client: ApiClient | None = None):
        self.config = config
        self.client = client or ApiClient(config["url"], config["agent_id"], config["secret"])
        self.workdir = os.path.abspath(workdir)
        self.once = once
        self.slots = max(int(config.get("slots") or 1), 1)
        self.heartbeat_seconds = float(config.get("heartbeat_seconds") or DEFAULT_HEARTBEAT_SECONDS)
        self.name = str(config.get("name") or socket.gethostname())
        script = own_script_path()
        self.upgrader = Upgrader(self.client, script, restart_args or []) if script else None
        self.runners: dict[str, JobRunner] = {}
        self.workspace_locks = WorkspaceLocks()
        self.stop_event = threading.Event()
        self.fatal: str | None = None
        self.upgrade_offer: dict | None = None
        self._refused_upgrades: set[tuple[str, str]] = set()
        self._condition = threading.Condition()
        self._wake_heartbeat = threading.Event()
        self._claiming = False
        self._claimed = 0
        self._statuses: list[str] = []

    def run(self) -> int:
        os.makedirs(self.workdir, exist_ok=True)
        self._install_signal_handlers()
        log.info("agent %s %s running (%d slot%s, work directory %s)", self.name, AGENT_VERSION, self.slots,
                 "" if self.slots == 1 else "s", self.workdir)
        threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True).start()
        try:
            self._claim_loop()
        except ClaimInterrupted:
            pass
        self._wait_for_jobs()
        if self.fatal:
            log.error("%s", self.fatal)
            return 2
        if self.once:
            return 0 if self._statuses and all(status == "succeeded" for status in self._statuses) else 1
        return 0

    def heartbeat(self) -> dict:
        with self._condition:
            running = list(self.runners)
        body = {"version": AGENT_VERSION, "running_jobs": running,
                "free_slots": max(self.slots - len(running), 0), **host_facts()}
        answer = self.client.request("POST", "heartbeat", body)[1]
        for job_id in answer.get("cancel_jobs") or []:
            with self._condition:
                runner = self.runners.get(str(job_id))
            if runner is not None:
                log.info("job %s: canceled by the server", job_id)
                runner.cancel()
        offer = answer.get("upgrade")
        if offer and offer.get("version") != AGENT_VERSION and offer.get("url"):
            self.upgrade_offer = offer
        return answer

    def _heartbeat_loop(self) -> None:
        backoff = Backoff(maximum=self.heartbeat_seconds)
        while not self.stop_event.is_set():
            try:
                self.heartbeat()
                backoff.reset()
                delay = JOB_HEARTBEAT_SECONDS if self.runners else self.heartbeat_seconds
            except TransientError as exc:
                delay = backoff.next()
                log.warning("heartbeat failed: %s; next in %.1f s", exc, delay)
            except RequestRejected as exc:
                if exc.status in (401, 403):
                    self._fail(f"the server refused this agent's credentials ({exc}); register it again")
                    return
                delay = backoff.next()
                log.error("heartbeat refused: %s", exc)
            self._wait_for_next_beat(delay)

    def _wait_for_next_beat(self, delay: float) -> None:
        """Sleep `delay`; a job that starts meanwhile brings the next beat within
        JOB_HEARTBEAT_SECONDS (its cancel must reach it quickly) rather than at once."""
        deadline = time.monotonic() + delay
        while (remaining := deadline - time.monotonic()) > 0 and not self.stop_event.is_set():
            if not self._wake_heartbeat.wait(remaining):
                return
            self._wake_heartbeat.clear()
            deadline = min(deadline, time.monotonic() + JOB_HEARTBEAT_SECONDS)

    def _claim_loop(self) -> None:
        backoff = Backoff()
        while not self.stop_event.is_set():
            if self.upgrade_offer is not None:
                self._try_upgrade()
                continue
            if self.once and self._claimed:
                return
            free = self._free_slots()
            if free <= 0:
                with self._condition:
                    self._condition.wait(1.0)
                continue
            try:
                job = self._claim(free)
                backoff.reset()
            except TransientError:
                continue
            except RequestRejected as exc:
                if exc.status in (401, 403):
                    self._fail(f"the server refused this agent's credentials ({exc}); register it again")
                    return
                log.error("claim refused: %s", exc)
                self.stop_event.wait(backoff.next())
                continue
            if job:
                self._start_job(job)

    def _claim(self, free: int) -> dict | None:
        self._claiming = True
        try:
            if self.stop_event.is_set():
                return None
            body = {"free_slots": free, "wait_seconds": CLAIM_WAIT_SECONDS}
            status, answer = self.client.call("POST", "claim", body, timeout=CLAIM_WAIT_SECONDS + 15,
                                              stop=self.stop_event)
        finally:
            self._claiming = False
        return answer.get("job") if status == 200 else None

    def _free_slots(self) -> int:
        with self._condition:
            return self.slots - len(self.runners)

    def _start_job(self, job: dict) -> None:
        runner = JobRunner(job, JobApi(self.client, str(job["id"])), workdir=self.workdir,
                           runner_name=self.name, workspace_locks=self.workspace_locks)
        with self._condition:
            self.runners[runner.job_id] = runner
            self._claimed += 1
        name = f"job-{runner.job_id}"
        threading.Thread(target=self._run_job, args=(runner,), name=name, daemon=True).start()
        self._wake_heartbeat.set()

    def _run_job(self, runner: JobRunner) -> None:
        try:
            status = runner.run()
        except Exception:
            log.exception("job %s: unexpected error", runner.job_id)
            status = "failed"
        with self._condition:
            self.runners.pop(runner.job_id, None)
            self._statuses.append(status)
            self._condition.notify_all()

    def _wait_for_jobs(self) -> None:
        with self._condition:
            while self.runners:
                self._condition.wait(1.0)

    def _try_upgrade(self) -> None:
        offer = self.upgrade_offer or {}
        key = (str(offer.get("version")), str(offer.get("sha256")))
        if self.upgrader is None or key in self._refused_upgrades:
            if key not in self._refused_upgrades:
                log.warning("upgrade to %s offered, but this agent does not run from a file", key[0])
            self._refused_upgrades.add(key)
            self.upgrade_offer = None
            return
        with self._condition:
            if self.runners:
                self._condition.wait(1.0)
                return
        try:
            self.upgrader.upgrade(offer)
        except (UpgradeError, TransientError, RequestRejected, OSError) as exc:
            log.error("upgrade to %s failed: %s", key[0], exc)
            self._refused_upgrades.add(key)
            self.upgrade_offer = None

    def _fail(self, message: str) -> None:
        self.fatal = message
        self.stop_event.set()
        with self._condition:
            self._condition.notify_all()

    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self.stop_event.is_set():
            log.error("second signal: exiting without waiting for jobs")
            os._exit(130)
        log.info("stopping: canceling running jobs")
        self.stop_event.set()
        with self._condition:
            runners = list(self.runners.values())
        for runner in runners:
            runner.cancel()
        if self._claiming:
            raise ClaimInterrupted()


# ---------------------------------------------------------------------------------------------
# Command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="devops_agent.py", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=AGENT_VERSION)
    commands = parser.add_subparsers(dest="command", required=True)
    register = commands.add_parser("register", help="exchange a registration token for agent credentials")
    register.add_argument("--url", required=True, help="server address, e.g. https://ci.example.com")
    register.add_argument("--token", required=True, help="one-time registration token")
    register.add_argument("--name", default=None, help="agent name (default: host name)")
    register.add_argument("--labels", default="", help="extra labels, comma-separated")
    register.add_argument("--slots", type=int, default=1, help="jobs run at the same time")
    register.add_argument("--run", action="store_true", help="start running right after registering")
    run = commands.add_parser("run", help="pull and run jobs")
    run.add_argument("--once", action="store_true", help="exit after the first job finishes")
    for sub in (register, run):
        sub.add_argument("--config", default=None, help="config file (default: $DEVOPS_AGENT_CONFIG or "
                                                        "~/.devops-agent/agent.json)")
        sub.add_argument("--workdir", default=None, help="work directory (default: $DEVOPS_AGENT_WORKDIR or "
                                                         "~/.devops-agent/work)")
    return parser


def register_agent(args: argparse.Namespace, config_path: str) -> dict:
    extra = [item.strip() for item in args.labels.split(",") if item.strip()]
    labels = list(dict.fromkeys(default_labels() + extra))
    facts = host_facts()
    body = {"token": args.token, "name": args.name or facts["hostname"], "hostname": facts["hostname"],
            "os": facts["os"], "arch": facts["arch"], "labels": labels, "slots": max(args.slots, 1),
            "version": AGENT_VERSION}
    answer = ApiClient(args.url).call("POST", "register", body, attempts=5)[1]
    config = {"url": normalise_server_url(args.url), "agent_id": answer["agent_id"],
              "secret": answer["secret"], "name": body["name"],
              "slots": int(answer.get("slots") or body["slots"]),
              "labels": answer.get("labels") or labels,
              "heartbeat_seconds": answer.get("heartbeat_seconds") or DEFAULT_HEARTBEAT_SECONDS}
    if args.workdir:
        config["workdir"] = os.path.abspath(args.workdir)
    save_config(config_path, config)
    return config


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    config_path = os.path.abspath(args.config or default_config_path())
    if args.command == "register":
        try:
            config = register_agent(args, config_path)
        except (RequestRejected, TransientError) as exc:
            log.error("registration failed: %s", exc)
            return 2
        log.info("registered as %s (config %s)", config["agent_id"], config_path)
        if not args.run:
            return 0
    else:
        try:
            config = load_config(config_path)
        except (OSError, ValueError) as exc:
            log.error("cannot read the agent config: %s; run `register` first", exc)
            return 2
    workdir = os.path.abspath(args.workdir or config.get("workdir") or default_workdir())
    once = bool(getattr(args, "once", False))
    restart_args = ["run", "--config", config_path, "--workdir", workdir] + (["--once"] if once else [])
    return Agent(config, workdir=workdir, once=once, restart_args=restart_args).run()


if __name__ == "__main__":
    sys.exit(main())
