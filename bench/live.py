"""Benchmark: live log latency on the production shape (PostgreSQL, Redis, uvicorn, one Celery worker
and local agents, each a real process; bench/cluster.py) while --jobs jobs print at full speed.

Each job is one python step that waits for a go file, then for --seconds prints lines as fast as it
can (or --rate lines/s), writing `time.time()` into each line and flushing after each. A websocket
client (bench/live_client.py: the `websockets` package, signed in with a session cookie) holds one
socket per job on `ws/.../builds/{number}/`, subscribed before the first line is printed; a bad
message sent after the subscribe is answered with an error once the resume path (stored lines) is
done, so only lines of live `log.appended` batches are counted. For each of them:
- read->receive: now minus the line's `ts`, the moment the agent read it (ms precision): what the
  target is about (median under 150 ms, p99 under 500 ms);
- print->receive: now minus the time the step wrote into the line, for 1 line in 16 (parsing
  every line would make the client the bottleneck on these 2 cores). The agent reads right after
  the print unless it holds a batch in flight and one waiting: then the step blocks on its pipe,
  and this includes that back pressure;
- where it goes: print->read (the same sample); the wait in the agent's batch (ts of the batch's
  last line minus the line's); delivery (receive minus ts of the batch's last line: the batch in
  flight before it, HTTP, ingest, commit, publish, Redis, consumer, websocket); the median by
  quarter of the run (a growing queue shows as rising figures); CPU used per process kind.

Baseline, in the same process: a tiny `log.appended` message published through the channel layer
to another build's socket (no job running there), 200 round trips before the jobs print, then one
every 100 ms while they print (the same path under load). Also: lines received vs stored, lines/s.

    .venv/bin/python bench/live.py [--jobs 4] [--seconds 10] [--rate 0] [--server-workers 1]
                                   [--websocket-server] [--database devops_live_bench] [--redis-db 14]

`--websocket-server` serves the websockets from a server process of their own (as a proxy routing
`/ws/` to other workers would), apart from the agents' calls. It needs PostgreSQL and Redis on
loopback (as `.ci/run` starts them); the database and the Redis database are emptied first.
"""

import argparse
import asyncio
import os
import statistics
import time
from pathlib import Path

from cluster import (
    configure,
    cpu_by_part,
    percentile,
    reset_services,
    start_agents,
    start_notify_worker,
    start_server,
    start_worker,
    stop,
    wait_finished,
    wait_listening,
)
from live_client import Samples, Target, measure

PRINTER = """import os, sys, time
while not os.path.exists({go!r}):
    time.sleep(0.002)
write, flush, clock = sys.stdout.write, sys.stdout.flush, time.time
start, number, rate = clock(), 0, {rate}
while (now := clock()) < start + {seconds}:
    if rate and now < start + number / rate:
        time.sleep(start + number / rate - now)
        continue
    number += 1
    write(f"line {{number}} printed at {{now:.6f}}\\n")
    flush()
"""


def printing_pipeline(*, jobs: int, go: Path, seconds: float, rate: float) -> str:
    script = PRINTER.format(go=str(go), seconds=seconds, rate=rate)
    indented = "".join(f"          {line}\n" for line in script.splitlines())
    job = f"    runs-on: [self-hosted]\n    steps:\n      - shell: python\n        run: |\n{indented}"
    body = "".join(f"  print{number}:\n{job}" for number in range(jobs))
    return f"name: live\non: push\njobs:\n{body}"


IDLE = "name: idle\non: push\njobs:\n  idle:\n    runs-on: [no-such-agent]\n    steps:\n      - run: 'true'\n"
WARM = "name: warm\non: push\njobs:\n" + "".join(
    f"  warm{number}:\n    runs-on: [self-hosted]\n    steps:\n      - run: 'true'\n" for number in range(8)
)


def wait_running(build, jobs: int, timeout: float = 120) -> None:
    """Until every job of the build runs (its step then waits for the go file)."""
    from apps.process.choices import Status

    deadline = time.monotonic() + timeout
    while build.jobs.filter(status=Status.RUNNING).count() < jobs:
        if time.monotonic() > deadline:
            raise TimeoutError("the jobs did not start")
        time.sleep(0.05)


def figures(values: list[float]) -> str:
    if not values:
        return "no samples"
    ms = [value * 1000 for value in values]
    return (f"median {statistics.median(ms):.1f} ms, p90 {percentile(ms, 0.9):.1f} ms, "
            f"p99 {percentile(ms, 0.99):.1f} ms, max {max(ms):.1f} ms")


def by_quarter(samples: Samples, started: float) -> str:
    """Median read->receive of the lines received in each quarter of the run: a queue that grows
    shows as rising figures."""
    span = (samples.last - started) / 4
    quarters: list[list[float]] = [[], [], [], []]
    for received, latency in zip(samples.received_at, samples.read_receive, strict=True):
        quarters[min(int((received - started) / span), 3)].append(latency)
    return ", ".join(f"{statistics.median(values) * 1000:.0f}" if values else "-" for values in quarters)


def report(result: dict, *, options, stored: int) -> None:
    samples: Samples = result["samples"]
    count = len(samples.read_receive)
    started = result["started"]
    span = max(samples.last - started, 1e-9)
    speed = f"{options.rate:g} lines/s each" if options.rate else "full speed"
    websockets = "; websockets on a server of their own" if options.websocket_server else ""
    print(f"live log latency: {options.jobs} jobs printing at {speed} for {options.seconds:g} s, "
          f"{options.server_workers} server worker(s){websockets}, PostgreSQL + Redis")
    print(f"  read->receive    {figures(samples.read_receive)}  (target: median < 150 ms, p99 < 500 ms)")
    print(f"  print->receive   {figures(samples.print_receive)}  (1 line in {samples.SAMPLE_EVERY})")
    print(f"  lines            {count:,} live received ({count / span:,.0f} lines/s over {span:.1f} s), "
          f"{stored:,} stored; {samples.resumed_lines} sent through the resume path, not counted")
    if not count:
        return
    print(f"  where it goes    print->read (pipe and agent back pressure) {figures(samples.print_read)}")
    print(f"                   wait in the agent's batch {figures(samples.batch_wait)}")
    print(f"                   delivery (the batch's last line read->receive) {figures(samples.delivery)}")
    sizes = samples.batch_sizes
    print(f"                   {len(sizes)} batches, {statistics.mean(sizes):.0f} lines on average; "
          f"read->receive median by quarter of the run: {by_quarter(samples, started)} ms")
    cpu = result["cpu"]
    print("                   CPU s per s of the run: " + ", ".join(
        f"{name} {value / span:.2f}" for name, value in cpu.items()
    ) + f"; total {sum(cpu.values()) / span:.2f} of {os.cpu_count()} cores")
    print(f"  baseline         channel layer -> consumer -> websocket, tiny message, idle: "
          f"{figures(result['idle'])}")
    print(f"                   the same every 100 ms while the jobs print: {figures(result['loaded'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rate", type=float, default=0, help="lines per second per job (0: full speed)")
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--websocket-server", action="store_true",
                        help="serve the client's websockets from a server process of their own")
    parser.add_argument("--database", default="devops_live_bench", help="PostgreSQL database name")
    parser.add_argument("--redis-db", type=int, default=14)
    args = parser.parse_args()
    var_dir = Path(f"/tmp/{args.database}")
    configure(database=args.database, redis_db=args.redis_db, var_dir=str(var_dir))
    reset_services()

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Sum
    from django.test import Client

    from apps.core.services import project_create
    from apps.log.models import LogCursor
    from apps.process.services import pipeline_create
    from apps.process.services.builds import build_start
    from devops.embedded import free_port

    var_dir.mkdir(parents=True, exist_ok=True)
    go = var_dir / "go"
    go.unlink(missing_ok=True)
    user = get_user_model().objects.create_superuser(username="bench", email="", password="bench")
    project = project_create(user=user, slug="bench", name="Bench")
    yaml = printing_pipeline(jobs=args.jobs, go=go, seconds=args.seconds, rate=args.rate)
    live = pipeline_create(project=project, user=user, name="live", yaml=yaml)
    idle = pipeline_create(project=project, user=user, name="idle", yaml=IDLE)
    warm = pipeline_create(project=project, user=user, name="warm", yaml=WARM)
    browser = Client()
    browser.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"

    port = free_port()
    servers = [start_server(port=port, workers=args.server_workers)]
    websocket_port = port
    if args.websocket_server:
        websocket_port = free_port()
        servers.append(start_server(port=websocket_port, workers=args.server_workers))
    worker = start_worker()
    notify_worker = start_notify_worker()
    agents = start_agents(url=f"http://127.0.0.1:{port}", user=user, count=args.jobs)
    try:
        wait_listening(port)
        wait_listening(websocket_port)
        wait_finished([build_start(pipeline=warm, user=user)], timeout=120)  # warm up every process
        idle_build = build_start(pipeline=idle, user=user)
        live_build = build_start(pipeline=live, user=user)
        wait_running(live_build, args.jobs)
        pids = {"servers": [server.pid for server in servers], "worker": worker.pid,
                "agents": [agent.pid for agent in agents]}
        result = asyncio.run(measure(
            base=f"ws://127.0.0.1:{websocket_port}", cookie=cookie, live=Target(live_build, "live"),
            idle=Target(idle_build, "idle"), go=go, timeout=args.seconds + 300,
            cpu=lambda: cpu_by_part(database=args.database, **pids),
        ))
        cursors = LogCursor.objects.filter(job__build=live_build)
        stored = cursors.aggregate(lines=Sum("stored_through"))["lines"]
        report(result, options=args, stored=stored)
    finally:
        for process in [*agents, worker, notify_worker, *servers]:
            stop(process)


if __name__ == "__main__":
    main()
