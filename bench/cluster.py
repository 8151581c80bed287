"""The production shape the benchmarks start, shared by bench/engine.py and bench/live.py:
PostgreSQL and Redis on loopback (as `.ci/run` starts them), uvicorn server process(es), one Celery
worker and local agents, each a real process, with DEBUG=0 and DEVOPS_TICKET_KEYS set.

`configure` sets the environment and must run before Django is imported; `reset_services` then
empties the benchmark's own database and Redis database and migrates.
"""

import base64
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def configure(*, database: str, redis_db: int = 14, var_dir: str = "/tmp/devops-bench") -> dict[str, str]:
    """Point this process (and every process it starts) at `database` and Redis `redis_db`."""
    env = {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "DEVOPS_TICKET_KEYS": "bench:" + base64.b64encode(b"bench-only-credential-key-32byte").decode(),
        "DEVOPS_VAR_DIR": var_dir,
    }
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devops.settings")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return env


def reset_services() -> None:
    """Drop and create the configured database, empty the Redis database, migrate."""
    import psycopg
    import redis

    base, database = os.environ["DATABASE_URL"].rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
        connection.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        connection.execute(f"CREATE DATABASE {database}")
    redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True)


def start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL)


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def start_server(*, port: int, workers: int = 1) -> subprocess.Popen:
    """uvicorn serving devops.asgi with `workers` processes."""
    return start([
        PYTHON, "-m", "uvicorn", "devops.asgi:application", "--port", str(port), "--log-level", "warning",
        "--lifespan", "off", "--workers", str(workers),
    ])


def start_worker(queues: str = "engine,dispatch,log") -> subprocess.Popen:
    """One Celery worker process for `queues` (the engine's by default; the production shape runs
    notifications in a worker of their own, see `start_notify_worker`)."""
    return start([
        PYTHON, "-m", "celery", "-A", "devops", "worker", "-P", "solo", "-c", "1", "-l", "warning",
        "-Q", queues, "--without-heartbeat", "--without-mingle", "--without-gossip",
    ])


def start_notify_worker() -> subprocess.Popen:
    return start_worker("notify")


def start_agents(*, url: str, user, count: int, labels: list[str] | None = None) -> list[subprocess.Popen]:
    """`count` local agents with one slot each, registered for `user`, homes under DEVOPS_VAR_DIR."""
    from apps.environment.services import agent_create
    from devops.embedded import start_local_agent

    agents = []
    for number in range(count):
        agent, secret = agent_create(
            project=None, user=user, name=f"bench-{number}", labels=labels or ["self-hosted"], slots=1
        )
        home = Path(os.environ["DEVOPS_VAR_DIR"]) / f"agent-{number}"
        agents.append(start_local_agent(url=url, agent_id=agent.id, secret=secret, home=home))
    return agents


def wait_listening(port: int, timeout: float = 30) -> None:
    """Until something accepts connections on the loopback port."""
    import socket

    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_finished(builds, timeout: float = 600) -> None:
    from apps.process.choices import TERMINAL_STATUSES
    from apps.process.models import Build

    ids = [build.id for build in builds]
    deadline = time.monotonic() + timeout
    while Build.objects.filter(id__in=ids).exclude(status__in=TERMINAL_STATUSES).exists():
        if time.monotonic() > deadline:
            raise TimeoutError("builds did not finish")
        time.sleep(0.005)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def process_table() -> dict[int, tuple[int, float, float, str]]:
    """pid -> (parent pid, own CPU seconds, CPU seconds of its children it waited for, command line)."""
    tick = os.sysconf("SC_CLK_TCK")
    table = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        own, waited = int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])
        table[int(entry.name)] = (int(fields[1]), own / tick, waited / tick, command)
    return table


def cpu_by_part(*, servers: list[int], worker: int, agents: list[int], database: str,
                notify_worker: int | None = None) -> dict[str, float]:
    """CPU seconds used so far by the server(s), the worker (and the notify worker), the agents,
    their steps, PostgreSQL's backends of `database`, Redis (every client's) and this process."""
    table = process_table()
    children: dict[int, list[int]] = {}
    for pid, (parent, *_) in table.items():
        children.setdefault(parent, []).append(pid)

    def tree(pid: int) -> float:
        if pid not in table:
            return 0.0
        _, own, waited, _ = table[pid]
        return own + waited + sum(tree(child) for child in children.get(pid, []))

    agents_own = sum(table[pid][1] for pid in agents if pid in table)
    return {
        "server": sum(tree(pid) for pid in servers),
        "worker": tree(worker),
        **({"notify worker": tree(notify_worker)} if notify_worker else {}),
        "agents": agents_own,
        "steps": sum(tree(pid) for pid in agents) - agents_own,
        "this process": table[os.getpid()][1],
        "postgres": sum(row[1] for row in table.values() if f" {database} " in row[3]),
        "redis": sum(row[1] for row in table.values() if row[3].startswith("redis-server")),
    }
