"""The websocket client of bench/live.py: one socket per job of the printing build, signed in with
a session cookie; per line of a live `log.appended` batch it notes when the agent read it and when
it arrived (and, for a sample of them, when the step printed it). And the baseline: tiny messages
published through the channel layer to another build's socket."""

import asyncio
import json
import time
from datetime import datetime
from functools import lru_cache
from itertools import repeat
from pathlib import Path


@lru_cache(maxsize=65536)
def epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


class Samples:
    """What the client measured, in seconds. Every line counts in read->receive (the ts runs of a
    chunk give each line's read time without decoding it); the print time is parsed out of every
    SAMPLE_EVERY-th line, so the client keeps up with the server on the same cores."""

    SAMPLE_EVERY = 16

    def __init__(self):
        self.print_receive, self.read_receive, self.print_read = [], [], []
        self.batch_wait, self.delivery, self.batch_sizes = [], [], []
        self.received_at = []
        self.resumed_lines = 0
        self.first = self.last = 0.0

    def take(self, message: dict, received: float) -> None:
        from apps.log.chunks import expand

        runs = message["meta"]["ts"]
        reads = [(epoch(runs[index]), runs[index + 1]) for index in range(0, len(runs), 2)]
        last_read = max(read for read, _ in reads)
        self.delivery.append(received - last_read)
        self.batch_sizes.append(message["line_count"])
        self.first, self.last = self.first or received, received
        for read, count in reads:
            self.read_receive.extend(repeat(received - read, count))
            self.batch_wait.extend(repeat(last_read - read, count))
            self.received_at.extend(repeat(received, count))
        texts, stamps = message["text"].split("\n"), expand(runs)
        for index in range(0, message["line_count"], self.SAMPLE_EVERY):
            if texts[index].startswith("line "):
                printed, read = float(texts[index].rsplit(" ", 1)[1]), epoch(stamps[index])
                self.print_receive.append(received - printed)
                self.print_read.append(read - printed)


def connect(url: str, cookie: str):
    from websockets.asyncio.client import connect as ws_connect

    return ws_connect(url, additional_headers={"Cookie": cookie}, max_size=None)


async def subscribe(socket, job_key: str, samples: Samples) -> None:
    """Subscribe, then wait for the answer to a bad message: what came before it is the resume path."""
    await socket.send(json.dumps({"type": "subscribe", "job": job_key, "after": 0}))
    await socket.send(json.dumps({"type": "sync"}))
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 30))
        if message["type"] == "error":
            return
        if message["type"] == "log.appended":
            samples.resumed_lines += message["line_count"]


async def follow(socket, job_key: str, samples: Samples, quiet: float = 3.0) -> None:
    """Live batches until the job is finished and the socket then stays quiet for `quiet` seconds
    (the job's last batches are published by the server, its status by the worker: either may
    come first)."""
    from apps.process.choices import TERMINAL_STATUSES

    finished = False
    while True:
        try:
            raw = await (asyncio.wait_for(socket.recv(), quiet) if finished else socket.recv())
        except TimeoutError:
            return
        received = time.time()
        message = json.loads(raw)
        if message["type"] == "log.appended":
            samples.take(message, received)
        elif message["type"] == "build.changed":
            statuses = {job["key"]: job["status"] for job in message.get("jobs", [])}
            finished = finished or statuses.get(job_key) in TERMINAL_STATUSES


def tiny_message(*, job_key: str, attempt: int, seq: int) -> dict:
    """A one-line `log.appended` group message, shaped as ingest publishes it (a chunk)."""
    from apps.log.chunks import chunk_encode
    from apps.log.lines import Line

    chunk = chunk_encode([Line(seq, 0, "2025-01-01T00:00:00Z", "stdout", "", f"{time.time():.6f}")])
    fields = ("first_seq", "last_seq", "line_count", "text", "meta")
    return {"type": "log.appended", "job": job_key, "attempt": attempt,
            **{name: getattr(chunk, name) for name in fields}}


async def ping_round_trips(*, socket, layer, group: str, job_key: str, attempt: int, seqs: range) -> list:
    """Publish one tiny message, wait for it on the socket, again: one per seq (above any sent)."""
    latencies = []
    for seq in seqs:
        await layer.group_send(group, tiny_message(job_key=job_key, attempt=attempt, seq=seq))
        message = {"type": None}
        while message["type"] != "log.appended":
            message = json.loads(await asyncio.wait_for(socket.recv(), 30))
        latencies.append(time.time() - float(message["text"]))
    return latencies


async def ping_under_load(*, socket, layer, group: str, job_key: str, attempt: int, first_seq: int,
                          stop_event: asyncio.Event) -> list:
    latencies, seq = [], first_seq

    async def receive():
        from websockets.exceptions import ConnectionClosed

        try:
            while True:
                message = json.loads(await socket.recv())
                if message["type"] == "log.appended":
                    latencies.append(time.time() - float(message["text"]))
        except ConnectionClosed:
            return

    receiver = asyncio.create_task(receive())
    while not stop_event.is_set():
        await layer.group_send(group, tiny_message(job_key=job_key, attempt=attempt, seq=seq))
        seq += 1
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    receiver.cancel()
    return latencies


class Target:
    """A build the client watches, read from the database before the event loop starts."""

    def __init__(self, build, pipeline: str):
        self.id, self.path = build.id, f"ws/projects/bench/pipelines/{pipeline}/builds/{build.number}/"
        self.jobs = sorted((job.key, job.attempt, job.id) for job in build.jobs.all())


async def measure(*, base: str, cookie: str, live: Target, idle: Target, go: Path, timeout: float,
                  cpu) -> dict:
    from channels.layers import get_channel_layer

    from apps.log.live import job_log_group_name

    layer = get_channel_layer()
    (idle_key, idle_attempt, idle_job), = idle.jobs
    idle_group, options = job_log_group_name(idle_job), {"job_key": idle_key, "attempt": idle_attempt}
    job_keys = [key for key, _, _ in live.jobs]
    samples = Samples()
    async with connect(f"{base}/{idle.path}", cookie) as idle_socket:
        await subscribe(idle_socket, idle_key, Samples())
        pings = {"socket": idle_socket, "layer": layer, "group": idle_group, **options}
        await ping_round_trips(seqs=range(1, 21), **pings)  # warm up
        idle_latencies = await ping_round_trips(seqs=range(21, 221), **pings)
        sockets = [await connect(f"{base}/{live.path}", cookie).__aenter__() for _ in job_keys]
        stop_event, pinger = asyncio.Event(), None
        try:
            for socket, key in zip(sockets, job_keys, strict=True):
                await subscribe(socket, key, samples)
            pinger = asyncio.create_task(ping_under_load(first_seq=1000, stop_event=stop_event, **pings))
            cpu_before = cpu()
            go.touch()
            started = time.time()
            followers = [follow(socket, key, samples) for socket, key in zip(sockets, job_keys, strict=True)]
            await asyncio.wait_for(asyncio.gather(*followers), timeout)
            cpu_used = {name: value - cpu_before[name] for name, value in cpu().items()}
            stop_event.set()
            loaded = await pinger
        finally:
            if pinger is not None and not pinger.done():
                pinger.cancel()
            for socket in sockets:
                await socket.close()
    return {"samples": samples, "idle": idle_latencies, "loaded": loaded, "started": started, "cpu": cpu_used}
