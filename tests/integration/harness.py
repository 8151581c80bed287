"""Real processes around the test database: the ASGI server (uvicorn), a Celery worker with its
beat (REDIS_URL only), and agents running `agent/devops_agent.py`.

Every child runs in its own session with DEVOPS_IT_MARK in its environment; `Cluster.close()`
stops them gracefully, then SIGKILLs whatever still carries the mark (steps the agents started
included). On the embedded default (no REDIS_URL) the broker is in-memory and per process, so the
worker runs inside the server (DEVOPS_EMBEDDED_WORKER=1) and the events the test process itself
emits (build_start, build_cancel_request, build_retry) run eagerly in the test process.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

from apps.environment.services import agent_create
from apps.process.choices import TERMINAL_STATUSES
from apps.process.models import Build

ROOT = Path(settings.BASE_DIR)
AGENT_FILE = ROOT / "agent" / "devops_agent.py"
PYTHON = sys.executable
FAST_SETTINGS = {
    "DEVOPS_LEASE_SECONDS": "5",
    "DEVOPS_SWEEP_SECONDS": "1",
    "DEVOPS_QUEUE_TIMEOUT_SECONDS": "3600",
    "LOG_LEVEL": "WARNING",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def redis_url() -> str:
    return settings.REDIS_URL


def broker_key_prefix() -> str:
    """One namespace of broker keys per pytest process, so parallel test workers never share queues."""
    return f"devops-it-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}:"


def database_url() -> str:
    """The test database pytest-django created, as a DATABASE_URL for the children."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(db['NAME']).resolve()}"
    credentials = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        credentials += ":" + quote(db["PASSWORD"], safe="")
    host = f"{credentials}@" if credentials else ""
    host += db.get("HOST") or "127.0.0.1"
    if db.get("PORT"):
        host += f":{db['PORT']}"
    return f"postgres://{host}/{db['NAME']}"


def purge_broker(prefix: str, *, bindings: bool = False) -> None:
    """Drop the messages an earlier test left in this process's broker namespace; with `bindings`,
    every key of the namespace (at the end of the session)."""
    import redis

    client = redis.Redis.from_url(redis_url())
    try:
        for key in client.scan_iter(match=prefix + "*"):
            if bindings or b"_kombu.binding" not in key:
                client.delete(key)
    finally:
        client.close()


def marked_pids(mark: str) -> list[int]:
    needle = f"DEVOPS_IT_MARK={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                if needle in handle.read().split(b"\0"):
                    found.append(int(entry))
        except OSError:
            continue
    return found


def pid_alive(pid: int) -> bool:
    """True while `pid` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in (b"Z", b"X")


def group_alive(pgid: int) -> bool:
    """True while any live process belongs to process group `pgid`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


class Child:
    """A process in its own session, its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path):
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Child:
        with open(self.log_path, "ab") as log:
            log.write(f"---- start {' '.join(self.argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, start_new_session=True,
            )
        return self

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, signum: int) -> None:
        """Signal the process group while its leader is not reaped (so its id cannot be reused)."""
        if self.process is None or self.process.returncode is not None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole process group at once and reap its leader."""
        self.signal_group(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=10)

    def wait(self, timeout: float) -> bool:
        """True once the process has exited (within `timeout` seconds)."""
        try:
            self.process.wait(timeout=max(timeout, 0.01))
            return True
        except subprocess.TimeoutExpired:
            return False

    def tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class ApiClient:
    """The REST API over real HTTP as a signed-in user (a session made in the database)."""

    def __init__(self, url: str, user):
        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        csrf = uuid.uuid4().hex
        self.url = url
        self.headers = {
            "Cookie": f"sessionid={session.session_key}; csrftoken={csrf}",
            "X-CSRFToken": csrf,
            "Content-Type": "application/json",
        }

    def post(self, path: str, body: dict | None = None) -> tuple[int, dict]:
        request = urllib.request.Request(
            self.url + path, data=json.dumps(body or {}).encode(), headers=self.headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")


@dataclass
class AgentHandle:
    agent: object
    child: Child
    workdir: Path

    def workspace(self, job) -> Path:
        build = job.build
        return self.workdir / build.pipeline.project.slug / build.pipeline.slug / job.key


@dataclass
class Cluster:
    """The server side (server, worker) and the agents of one test."""

    tmp: Path
    project: object
    user: object
    mark: str = field(default_factory=lambda: uuid.uuid4().hex)
    port: int = field(default_factory=free_port)
    settings_env: dict[str, str] = field(default_factory=dict)
    server: Child | None = None
    worker: Child | None = None
    agents: list[AgentHandle] = field(default_factory=list)
    children: list[Child] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def uses_redis(self) -> bool:
        return bool(redis_url())

    # environment

    def child_env(self, **extra: str) -> dict[str, str]:
        keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")
        env = {name: os.environ[name] for name in keep if name in os.environ}
        env.update(
            DEVOPS_IT_MARK=self.mark,
            PYTHONUNBUFFERED="1",
            PYTHONDONTWRITEBYTECODE="1",
            DJANGO_SETTINGS_MODULE="devops.settings",
        )
        env.update(extra)
        return env

    def server_env(self) -> dict[str, str]:
        env = self.child_env(DATABASE_URL=database_url(), **FAST_SETTINGS)
        if self.uses_redis:
            env.update(REDIS_URL=redis_url(), DEVOPS_BROKER_KEY_PREFIX=broker_key_prefix())
        else:
            env.update(DEVOPS_EMBEDDED_WORKER="1", CELERY_BROKER_URL="memory://")
        env.update(self.settings_env)
        return env

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Child:
        child = Child(name, argv, env, self.tmp / f"{name}.log").start()
        self.children.append(child)
        return child

    # the server side

    def start(self, **settings_env: str) -> Cluster:
        """Start the server (and, with REDIS_URL, the worker) with FAST_SETTINGS and these overrides."""
        self.settings_env.update(settings_env)
        if self.uses_redis:
            purge_broker(broker_key_prefix())
            self.start_worker()
        self.start_server()
        return self

    def start_server(self) -> Child:
        argv = [PYTHON, "-m", "uvicorn", "devops.asgi:application", "--host", "127.0.0.1",
                "--port", str(self.port), "--lifespan", "off", "--log-level", "warning"]
        self.server = self.spawn("server", argv, self.server_env())
        self.wait_listening(self.server)
        return self.server

    def wait_listening(self, server: Child, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not server.alive:
                raise RuntimeError(f"the server exited:\n{server.tail()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the server did not listen within {timeout} s:\n{server.tail()}")

    def kill_server(self) -> None:
        assert self.server is not None
        self.server.kill()

    def start_worker(self) -> Child:
        argv = [PYTHON, "-m", "celery", "-A", "devops", "worker", "-P", "solo", "-c", "1",
                "--without-heartbeat", "--without-mingle", "--without-gossip",
                "-n", f"it-{self.mark[:8]}-{len(self.children)}@%h", "--loglevel", "WARNING",
                "-B", "-s", str(self.tmp / f"beat-schedule-{len(self.children)}")]
        self.worker = self.spawn("worker", argv, self.server_env())
        return self.worker

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.kill()

    # agents

    def start_agents(self, count: int, *, labels: tuple[str, ...] = ("self-hosted", "linux"),
                     slots: int = 1) -> list[AgentHandle]:
        started = []
        for _ in range(count):
            number = len(self.agents) + 1
            agent, secret = agent_create(
                project=self.project, user=self.user, name=f"agent-{number}", labels=list(labels), slots=slots
            )
            home = self.tmp / f"agent-{number}"
            home.mkdir()
            config = home / "agent.json"
            config.write_text(json.dumps({
                "url": self.url, "agent_id": str(agent.id), "secret": secret, "name": f"agent-{number}",
                "slots": slots, "heartbeat_seconds": 1,
            }))
            config.chmod(0o600)
            argv = [PYTHON, str(AGENT_FILE), "run", "--config", str(config), "--workdir", str(home / "work")]
            child = self.spawn(f"agent-{number}", argv, self.child_env())
            handle = AgentHandle(agent=agent, child=child, workdir=home / "work")
            self.agents.append(handle)
            started.append(handle)
        return started

    def api(self, user) -> ApiClient:
        return ApiClient(self.url, user)

    def agent_of(self, job) -> AgentHandle:
        return next(handle for handle in self.agents if handle.agent.id == job.agent_id)

    # waiting

    def wait_build(self, build: Build, timeout: float = 60.0) -> Build:
        return self.wait_for(build, lambda b: b.status in TERMINAL_STATUSES, timeout, "to finish")

    def wait_for(self, build: Build, ready, timeout: float, what: str) -> Build:
        deadline = time.monotonic() + timeout
        while True:
            build.refresh_from_db()
            if ready(build):
                return build
            if time.monotonic() > deadline:
                jobs = [(job.key, job.status, job.reason) for job in build.jobs.order_by("id")]
                raise AssertionError(f"build {build.id} did not get {what} within {timeout} s: "
                                     f"{build.status} {jobs}")
            time.sleep(0.1)

    # teardown

    def close(self) -> None:
        """Agents first (SIGTERM lets them stop their steps), then the rest; then SIGKILL every
        process that still carries this cluster's mark (steps of a killed agent included)."""
        for handle in self.agents:
            handle.child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 3
        for handle in self.agents:
            handle.child.wait(deadline - time.monotonic())
        for child in reversed(self.children):
            child.kill()
        for _ in range(2):
            for pid in marked_pids(self.mark):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass

    def logs(self) -> str:
        return "\n".join(f"==== {child.name} ({child.log_path})\n{child.tail()}" for child in self.children)


def job_statuses(build: Build) -> dict:
    """Job statuses by YAML job id; a matrix job's combinations as a list, in key order."""
    grouped: dict[str, list] = {}
    for job in sorted(build.jobs.select_related("stage"), key=lambda job: (job.stage.index, job.id)):
        grouped.setdefault(job.job_id, []).append(job)
    return {
        job_id: [job.status for job in jobs] if jobs[0].matrix is not None else jobs[0].status
        for job_id, jobs in grouped.items()
    }


def wait_until(check, timeout: float, what: str):
    """Poll `check` until it returns something true, and return that."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, f"not {what} within {timeout} s"
        time.sleep(0.05)
    return result


def log_stored(build: Build, key: str, text: str) -> bool:
    from apps.log.testing import stored_log_texts

    return text in stored_log_texts(job__build=build, job__key=key)
