"""The embedded default's moving parts, inside one process: a Celery worker thread, a timer that
sends the periodic tasks (what celery beat does in production), a thread sending notifications
(apps.notify.sender), an ASGI server thread, and the local agent as a child process.

With no REDIS_URL the broker is kombu's in-memory transport, which only reaches consumers in the
same process, so `serve` and `pipeline run` start these. Production runs `celery worker`,
`celery beat` and an ASGI server instead; the tasks and views are the same.
"""

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from celery.worker import WorkController
from django.conf import settings

from devops.celery import app

_lock = threading.Lock()
_started: dict[str, object] = {}


def uses_embedded_broker() -> bool:
    return str(app.conf.broker_url).startswith("memory://")


def start_embedded_worker() -> WorkController:
    """Start the worker thread and the periodic-task timer once per process."""
    with _lock:
        if "worker" not in _started:
            worker = WorkController(
                app=app,
                pool="solo",
                concurrency=1,
                without_heartbeat=True,
                without_mingle=True,
                without_gossip=True,
                hostname="embedded@localhost",
                loglevel="WARNING",
            )
            threading.Thread(target=worker.start, name="embedded-celery-worker", daemon=True).start()
            threading.Thread(target=_send_periodic_tasks, name="embedded-beat", daemon=True).start()
            from apps.notify.sender import start_sender_thread  # models: only once Django is set up

            start_sender_thread()  # notifications: a slow receiver must not hold the one worker thread
            _started["worker"] = worker
        return _started["worker"]


def _send_periodic_tasks() -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    due = {name: time.monotonic() + float(entry["schedule"]) for name, entry in schedule.items()}
    while True:
        time.sleep(0.5)
        for name, entry in schedule.items():
            if time.monotonic() >= due[name]:
                app.send_task(entry["task"])
                due[name] = time.monotonic() + float(entry["schedule"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerThread:
    """The ASGI application served by uvicorn in a background thread."""

    def __init__(self, port: int | None = None):
        import uvicorn

        self.port = port or free_port()
        config = uvicorn.Config(
            "devops.asgi:application", host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="embedded-http", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerThread":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the embedded HTTP server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


AGENT_FILE = Path(settings.BASE_DIR) / "agent" / "devops_agent.py"


def start_local_agent(
    *, url: str, agent_id: int, secret: str, home: Path, quiet: bool = True
) -> subprocess.Popen:
    """Run the real agent file as a child process, configured to talk to `url`."""
    home.mkdir(parents=True, exist_ok=True)
    config = home / "agent.json"
    config.write_text(json.dumps({"url": url, "agent_id": str(agent_id), "secret": secret}))
    config.chmod(0o600)
    command = [
        sys.executable,
        str(AGENT_FILE),
        "run",
        "--config",
        str(config),
        "--workdir",
        str(home / "work"),
    ]
    output = subprocess.DEVNULL if quiet else None
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(command, stdout=output, stderr=output, env=env, start_new_session=True)
    atexit.register(stop_process_group, process)
    return process


def stop_process_group(process: subprocess.Popen, grace: float = 5.0) -> None:
    """Stop a child started in its own session, and everything it started."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass
