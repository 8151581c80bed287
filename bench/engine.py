"""Benchmark: the engine on the production shape (PostgreSQL, Redis, a Celery worker for the
engine's queues and one for notifications, the ASGI server and local agents, each a real process).

Prints, each beside a raw baseline measured in the same run:
- latency: trigger -> one-step build finished on an idle agent (median, p99 over --builds);
  baseline: `bash -c true` spawned directly;
- per-step overhead: a job of 200 `true` steps vs one `bash` running the same 200 commands;
- throughput: --throughput one-step builds over 4 agent slots, in builds per minute, and the CPU
  each process kind used per build meanwhile;
- memory: RSS of the server, the worker (idle and after the throughput run) and an agent.

    .venv/bin/python bench/engine.py [--builds 50] [--throughput 500] [--database devops_bench]

It needs PostgreSQL and Redis on loopback (as `.ci/run` starts them) and uses its own database
(`devops_bench` unless told) and Redis database 14, both emptied first. The processes are started by
bench/cluster.py, shared with bench/live.py.
"""

import argparse
import os
import statistics
import subprocess
import time

from cluster import (
    configure,
    cpu_by_part,
    percentile,
    reset_services,
    rss_mb,
    start_agents,
    start_notify_worker,
    start_server,
    start_worker,
    stop,
    wait_finished,
)

ONE_STEP = "name: one\non: push\njobs:\n  one:\n    runs-on: [self-hosted]\n    steps:\n      - run: 'true'\n"
MANY_STEPS = "name: many\non: push\njobs:\n  many:\n    runs-on: [self-hosted]\n    steps:\n" + "".join(
    "      - run: 'true'\n" for _ in range(200)
)


PHASES = ("trigger->queued", "queued->claimed", "claimed->step started", "step ran",
          "step->job finished", "job->build finished")


def latency_phases(build) -> list[float]:
    """The latency of a one-step build cut at the timestamps its rows carry."""
    job = build.jobs.get()
    step = job.steps.get()
    moments = [build.created_at, job.queued_at, job.started_at, step.started_at, step.finished_at,
               job.finished_at, build.finished_at]
    pairs = zip(moments, moments[1:], strict=False)
    return [(later - earlier).total_seconds() * 1000 for earlier, later in pairs]


def spawn_baseline(runs: int = 50) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(["bash", "-c", "true"], check=True)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--builds", type=int, default=50)
    parser.add_argument("--throughput", type=int, default=500)
    parser.add_argument("--server-workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--database", default="devops_bench", help="PostgreSQL database name")
    args = parser.parse_args()
    configure(database=args.database, redis_db=14, var_dir=f"/tmp/{args.database.replace('_', '-')}")
    reset_services()

    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from apps.core.services import project_create
    from apps.process.services import pipeline_create
    from apps.process.services.builds import build_start
    from devops.embedded import free_port

    user = get_user_model().objects.create_superuser(username="bench", email="", password="bench")
    project = project_create(user=user, slug="bench", name="Bench")
    one = pipeline_create(project=project, user=user, name="one", yaml=ONE_STEP)
    many = pipeline_create(project=project, user=user, name="many", yaml=MANY_STEPS)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(port=port, workers=args.server_workers)
    worker = start_worker()
    notify_worker = start_notify_worker()
    agents = start_agents(url=url, user=user, count=4)
    try:
        time.sleep(3)
        wait_finished([build_start(pipeline=one, user=user)])  # warm up every process
        idle = {"server": rss_mb(server.pid), "worker": rss_mb(worker.pid), "agent": rss_mb(agents[0].pid)}

        latencies, phases = [], []
        for _ in range(args.builds):
            build = build_start(pipeline=one, user=user)
            wait_finished([build])
            build.refresh_from_db()
            latencies.append((build.finished_at - build.created_at).total_seconds() * 1000)
            phases.append(latency_phases(build))
        baseline = spawn_baseline()
        median = statistics.median(latencies)
        print(
            f"latency   trigger->finished, one-step build: median {median:.1f} ms, "
            f"p99 {percentile(latencies, 0.99):.1f} ms over {args.builds} builds; "
            f"baseline bash -c true {baseline:.1f} ms; ratio {median / baseline:.1f}"
        )

        medians = [statistics.median(values) for values in zip(*phases, strict=True)]
        print("          where it goes (medians): " + ", ".join(
            f"{name} {value:.1f} ms" for name, value in zip(PHASES, medians, strict=True)
        ))

        build = build_start(pipeline=many, user=user)
        wait_finished([build])
        job = build.jobs.get()
        job_ms = (job.finished_at - job.started_at).total_seconds() * 1000
        started = time.perf_counter()
        subprocess.run(["bash", "-c", "true\n" * 200], check=True)
        one_bash_ms = (time.perf_counter() - started) * 1000
        per_step = (job_ms - one_bash_ms) / 200
        print(
            f"per-step  200 'true' steps: job {job_ms:.0f} ms; one bash running them {one_bash_ms:.1f} ms; "
            f"overhead {per_step:.1f} ms per step; ratio {job_ms / max(one_bash_ms, 0.1):.0f}"
        )

        parts = {"servers": [server.pid], "worker": worker.pid, "notify_worker": notify_worker.pid,
                 "agents": [agent.pid for agent in agents], "database": args.database}
        cpu_before = cpu_by_part(**parts)
        started = time.perf_counter()
        builds = [build_start(pipeline=one, user=user) for _ in range(args.throughput)]
        triggered = time.perf_counter() - started
        wait_finished(builds)
        elapsed = time.perf_counter() - started
        cpu = {name: value - cpu_before[name] for name, value in cpu_by_part(**parts).items()}
        per_minute = args.throughput / elapsed * 60
        raw = 60_000 / baseline * 4
        print(
            f"throughput {args.throughput} one-step builds over 4 agent slots: {elapsed:.1f} s "
            f"(triggering took {triggered:.1f} s), {per_minute:.0f} builds/min; "
            f"raw baseline (4 x bash -c true back to back) {raw:.0f}/min; ratio {raw / per_minute:.1f}"
        )
        print("          CPU ms per build: " + ", ".join(
            f"{name} {value * 1000 / args.throughput:.1f}" for name, value in cpu.items()
        ) + f" (this process: triggering); total {sum(cpu.values()) * 1000 / args.throughput:.1f} ms "
            f"on {os.cpu_count()} cores")
        print(
            f"memory    RSS idle: server {idle['server']:.0f} MB, worker {idle['worker']:.0f} MB, "
            f"agent {idle['agent']:.0f} MB; after throughput: server {rss_mb(server.pid):.0f} MB, "
            f"worker {rss_mb(worker.pid):.0f} MB, agent {rss_mb(agents[0].pid):.0f} MB"
        )
    finally:
        for process in [*agents, worker, notify_worker, server]:
            stop(process)


if __name__ == "__main__":
    main()
