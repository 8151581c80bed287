"""The websocket client of bench/live.py: one socket per job of the printing build, signed in with
a session cookie; per line of a live `log.appended` batch it notes when the step printed it, when
the agent read it and when it arrived. And the baseline: tiny messages published through the
channel layer to another build's socket."""

import asyncio
import json
import time
from datetime import datetime
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=65536)
def epoch(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


class Samples:
    """What the client measured, in seconds."""

    def __init__(self):
        self.print_receive, self.read_receive, self.print_read = [], [], []
        self.batch_wait, self.delivery, self.batch_sizes = [], [], []
        self.received_at = []
        self.other_lines = self.resumed_lines = 0
        self.first = self.last = 0.0

    def take(self, lines: list[dict], received: float) -> None:
        last_read = max(epoch(line["ts"]) for line in lines)
        self.delivery.append(received - last_read)
        self.batch_sizes.append(len(lines))
        self.first, self.last = self.first or received, received
        for line in lines:
            text = line["text"]
            if not text.startswith("line "):
                self.other_lines += 1
                continue
            printed, read = float(text.rsplit(" ", 1)[1]), epoch(line["ts"])
            self.print_receive.append(received - printed)
            self.read_receive.append(received - read)
            self.received_at.append(received)
            self.print_read.append(read - printed)
            self.batch_wait.append(last_read - read)


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
            samples.resumed_lines += len(message["lines"])


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
            samples.take(message["lines"], received)
        elif message["type"] == "build.changed":
            statuses = {job["key"]: job["status"] for job in message.get("jobs", [])}
            finished = finished or statuses.get(job_key) in TERMINAL_STATUSES


def tiny_message(*, job_key: str, attempt: int, seq: int) -> dict:
    """A one-line `log.appended` group message, shaped as ingest publishes it (a chunk)."""
    from apps.log.chunks import chunk_encode
    from apps.log.lines import Line

    chunk = chunk_encode([Line(seq, 0, "2025-01-01T00:00:00Z", "stdout", "", f"{time.time():.6f}")])
    return {"type": "log.appended", "job": job_key, "attempt": attempt, "first_seq": chunk.first_seq,
            "line_count": chunk.line_count, "text": chunk.text, "meta": chunk.meta}


async def ping_round_trips(*, socket, layer, group: str, job_key: str, attempt: int, seqs: range) -> list:
    """Publish one tiny message, wait for it on the socket, again: one per seq (above any sent)."""
    latencies = []
    for seq in seqs:
        await layer.group_send(group, tiny_message(job_key=job_key, attempt=attempt, seq=seq))
        message = {"type": None}
        while message["type"] != "log.appended":
            message = json.loads(await asyncio.wait_for(socket.recv(), 30))
        latencies.append(time.time() - float(message["lines"][0]["text"]))
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
                    latencies.append(time.time() - float(message["lines"][0]["text"]))
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
        self.jobs = sorted((job.key, job.attempt) for job in build.jobs.all())


async def measure(*, base: str, cookie: str, live: Target, idle: Target, go: Path, timeout: float,
                  cpu) -> dict:
    from channels.layers import get_channel_layer

    from apps.log.live import build_group_name

    layer = get_channel_layer()
    (idle_key, idle_attempt), = idle.jobs
    idle_group, options = build_group_name(idle.id), {"job_key": idle_key, "attempt": idle_attempt}
    job_keys = [key for key, _ in live.jobs]
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
