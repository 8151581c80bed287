"""Benchmark: log ingest end to end on the production shape (PostgreSQL, Redis, uvicorn, one Celery
worker and one local agent, each a real process; bench/cluster.py).

One job's step prints --lines short lines as fast as it can; the agent reads them, batches them
(column form, protocol 1.3) and posts them; the server stores them. Printed:
- lines/s stored end to end: --lines over the time from the agent reading the first line (its
  `ts`) to the moment the server has stored every line (polled every 5 ms);
- the same step writing its lines to a local file, timed in this process (the raw baseline), and
  the ratio;
- CPU seconds used by the server, the agent (without the step) and PostgreSQL over the run.

    .venv/bin/python bench/ingest.py [--lines 1000000] [--server-workers 1] [--database devops_ingest_bench]
                                     [--redis-db 10]

It needs PostgreSQL and Redis on loopback (as `.ci/run` starts them); its database and Redis
database are emptied first.
"""

import argparse
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from cluster import configure, reset_services, start_agents, start_server, start_worker, stop, wait_listening

PRINTER = (
    "import sys\n"
    "for start in range(1, {lines} + 1, 10000):\n"
    "    numbers = range(start, min(start + 10000, {lines} + 1))\n"
    "    sys.stdout.write(''.join(f'line {{n}}: compiling module_{{n % 977}}.py\\n' for n in numbers))\n"
)
JOB = "  print:\n    runs-on: [self-hosted]\n    steps:\n      - shell: python\n        run: |\n"


def printing_pipeline(lines: int) -> str:
    script = "".join(f"          {line}\n" for line in PRINTER.format(lines=lines).splitlines())
    return f"name: ingest\non: push\njobs:\n{JOB}{script}"


def file_baseline(lines: int) -> float:
    script = PRINTER.format(lines=lines)
    with tempfile.NamedTemporaryFile("w") as out:
        started = time.perf_counter()
        subprocess.run(["python3", "-c", script], stdout=out, check=True)
        return time.perf_counter() - started


def cpu_seconds(pids: list[int]) -> float:
    ticks = 0
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / 100


def postgres_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "postgres"], capture_output=True, text=True).stdout.split()
    return [int(pid) for pid in found]


def wait_stored(job, seq: int, timeout: float = 600) -> float:
    """When the server has stored the job's lines through `seq` (time.time())."""
    from apps.log.models import LogCursor

    cursors = LogCursor.objects.filter(job=job, attempt=1).values_list("stored_through", flat=True)
    deadline = time.monotonic() + timeout
    while (stored := cursors.first() or 0) < seq:
        if time.monotonic() > deadline:
            raise TimeoutError(f"lines stored through {stored}, not {seq}")
        time.sleep(0.005)
    return time.time()


def first_printed_line(job):
    """The step's first line, once stored: its seq and when the agent read it."""
    from apps.log.selectors import log_lines_page

    wait_stored(job, 1)
    while True:
        lines = log_lines_page(job=job, attempt=1, limit=200)
        printed = [line for line in lines if line.text.startswith("line 1:")]
        if printed:
            return printed[0].seq, datetime.fromisoformat(printed[0].ts.replace("Z", "+00:00")).timestamp()
        time.sleep(0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--server-workers", type=int, default=1)
    parser.add_argument("--database", default="devops_ingest_bench")
    parser.add_argument("--redis-db", type=int, default=10)
    args = parser.parse_args()
    configure(database=args.database, redis_db=args.redis_db, var_dir=f"/tmp/{args.database}")
    reset_services()

    import django

    django.setup()
    from cluster import wait_finished
    from django.contrib.auth import get_user_model

    from apps.core.services import project_create
    from apps.log.selectors import log_total_lines
    from apps.process.services import pipeline_create
    from apps.process.services.builds import build_start
    from devops.embedded import free_port

    user = get_user_model().objects.create_superuser(username="bench", email="", password="bench")
    project = project_create(user=user, slug="bench", name="Bench")
    pipeline = pipeline_create(project=project, user=user, name="ingest", yaml=printing_pipeline(args.lines))
    port = free_port()
    server, worker = start_server(port=port, workers=args.server_workers), start_worker()
    agents = start_agents(url=f"http://127.0.0.1:{port}", user=user, count=1)
    try:
        wait_listening(port)
        warm = build_start(pipeline=pipeline_create(project=project, user=user, name="warm",
                                                    yaml=printing_pipeline(1000)), user=user)
        wait_finished([warm], timeout=120)
        parts = {"server": [server.pid, *children(server.pid)], "agent": [agents[0].pid],
                 "PostgreSQL": postgres_pids()}
        before = {name: cpu_seconds(pids) for name, pids in parts.items()}
        build = build_start(pipeline=pipeline, user=user)
        job = build.jobs.get()
        first_seq, read_at = first_printed_line(job)
        stored_at = wait_stored(job, first_seq + args.lines - 1)
        used = {name: cpu_seconds(pids) - before[name] for name, pids in parts.items()}
        wait_finished([build], timeout=120)
        elapsed, baseline = stored_at - read_at, file_baseline(args.lines)
        total = log_total_lines(job=job, attempt=1)
        print(f"{args.lines:,} lines printed by one step; {total:,} lines in its log")
        rate, raw = args.lines / elapsed, args.lines / baseline
        print(f"end to end (agent read -> stored): {rate:>10,.0f} lines/s  ({elapsed:.2f} s)")
        print(f"the step writing to a local file:  {raw:>10,.0f} lines/s  ({baseline:.2f} s)", end="")
        print(f"  ratio {rate / raw:.3f}")
        print("CPU seconds while ingesting:", ", ".join(f"{name} {cpu:.1f}" for name, cpu in used.items()))
    finally:
        for process in [*agents, worker, server]:
            stop(process)


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found]


if __name__ == "__main__":
    main()
