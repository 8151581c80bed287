"""A concurrency group with `queue-length: 2` under 20 builds triggered at once from parallel
threads: one build of the group runs at a time, at most two wait, the rest are refused with a
reason naming the group, and every build ends."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import pytest
from django.db import connection

from apps.process.choices import TERMINAL_STATUSES
from apps.process.models import Build
from apps.process.services.builds import build_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

GROUPED = """
name: grouped
concurrency:
  group: deploy-${{ ci.pipeline }}
  queue-length: 2
jobs:
  deploy:
    runs-on: [self-hosted]
    steps:
      - run: sleep 0.5
"""
HOLDING = {"pending", "running", "waiting_review", "blocked"}
TRIGGERS = 20


def trigger(pipeline, owner, barrier: threading.Barrier) -> int:
    try:
        barrier.wait()
        return build_start(pipeline=pipeline, user=owner).id
    finally:
        connection.close()


def test_a_concurrency_group_runs_one_build_at_a_time_and_queues_at_most_two(cluster, make_pipeline, owner):
    pipeline = make_pipeline("grouped", GROUPED)
    cluster.start()
    if cluster.uses_redis:
        cluster.start_worker()  # two workers: queued builds of the group are advanced in parallel
    cluster.start_agents(2)
    barrier = threading.Barrier(TRIGGERS)
    most = Counter()

    with ThreadPoolExecutor(TRIGGERS) as pool:
        futures = [pool.submit(trigger, pipeline, owner, barrier) for _ in range(TRIGGERS)]
        deadline = time.monotonic() + 90
        while True:
            statuses = Counter(Build.objects.filter(pipeline=pipeline).values_list("status", flat=True))
            most["holding"] = max(most["holding"], sum(statuses[status] for status in HOLDING))
            most["queued"] = max(most["queued"], statuses["queued"])
            triggered = all(future.done() for future in futures)
            if triggered and sum(statuses.values()) == TRIGGERS and set(statuses) <= TERMINAL_STATUSES:
                break
            assert time.monotonic() < deadline, f"builds still unfinished: {statuses}"
            time.sleep(0.02)
        ids = sorted(future.result() for future in futures)

    builds = list(Build.objects.filter(id__in=ids).order_by("started_at"))
    assert most["holding"] == 1
    assert most["queued"] <= 2
    ran = [build for build in builds if build.status == "succeeded"]
    refused = [build for build in builds if build.status != "succeeded"]
    assert len(ran) >= 2 and len(ran) + len(refused) == TRIGGERS
    assert {(build.status, build.reason) for build in refused} == {
        ("canceled", "canceled: concurrency group 'deploy-grouped' already has 2 builds queued")
    }
    for earlier, later in pairwise(ran):
        assert earlier.finished_at <= later.started_at
    for build in refused:
        assert set(build.jobs.values_list("status", flat=True)) == {"canceled"}
