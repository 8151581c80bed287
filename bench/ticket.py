"""Benchmark: secrets for a claim, and the cost of masking on log ingest.

1. Resolving and decrypting the 50 credentials a job references (`job_secrets`, what a claim
   adds: one query + 50 AES-256-GCM decryptions + JSON), median of many runs, beside a raw
   baseline of 50 bare AESGCM decrypts. Target: under 5 ms added.
2. Log ingest of 100k lines (batches of 500) on the server, `log_lines_append` alone vs the
   masking step of `job_logs_append` (50 secrets, their base64 and URL-encoded variants) followed
   by `log_lines_append`. Target: masked throughput above 90% of unmasked.
3. The agent's log path for 100k lines (LogShipper with a no-op send) without and with its
   Masker (50 secrets) masking each batch.

Runs on a scratch SQLite database in a temporary directory (or DATABASE_URL if set).

    .venv/bin/python bench/ticket.py
"""
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SCRATCH = tempfile.mkdtemp(prefix="bench-ticket-")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{SCRATCH}/bench.sqlite3")
os.environ.setdefault("DEVOPS_VAR_DIR", SCRATCH)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devops.settings")

import django  # noqa: E402

django.setup()

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402
from django.core.management import call_command  # noqa: E402

from agent import devops_agent as agent  # noqa: E402
from apps.core.services import project_create  # noqa: E402
from apps.core.testing import make_user  # noqa: E402
from apps.log.services import log_lines_append  # noqa: E402
from apps.process.models import JobRun  # noqa: E402
from apps.process.services import pipeline_create  # noqa: E402
from apps.process.services.builds import build_start  # noqa: E402
from apps.process.services.jobs import job_secret_mask  # noqa: E402
from apps.ticket.services import credential_create, job_secrets  # noqa: E402

SECRETS, LINES, BATCH = 50, 100_000, 500
WORDS = ("the quick brown fox jumps over lazy dog build step compile test INFO DEBUG "
         "2024-01-01T10:00:00Z path/to/file.py line 42 ok PASSED tests/test_x.py::test_y").split()


def median_ms(function, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def setup():
    call_command("migrate", verbosity=0, interactive=False)
    user = make_user("bench", is_superuser=True)
    project = project_create(user=user, slug="bench", name="Bench")
    for n in range(SECRETS):
        credential_create(project=project, user=user, name=f"S{n}", type="token",
                          values={"token": f"secret-{n}-{os.urandom(12).hex()}+/="})
    env = "\n".join(f"      S{n}: ${{{{ secrets.S{n} }}}}" for n in range(SECRETS))
    yaml = f"name: bench\njobs:\n  j:\n    runs-on: [x]\n    env:\n{env}\n    steps: [{{run: echo}}]\n"
    pipeline = pipeline_create(project=project, user=user, name="bench", yaml=yaml)
    build = build_start(pipeline=pipeline, user=user)
    return build, JobRun.objects.select_related("build__pipeline__project").get(build=build)


def bench_claim(build, job):
    assert len(job_secrets(build, job)) == SECRETS
    resolve = median_ms(lambda: job_secrets(build, job), 200)
    key, nonce = AESGCM.generate_key(256), os.urandom(12)
    cipher = AESGCM(key)
    sealed = [cipher.encrypt(nonce, os.urandom(60), b"aad") for _ in range(SECRETS)]
    raw = median_ms(lambda: [cipher.decrypt(nonce, item, b"aad") for item in sealed], 200)
    print(f"claim: resolve+decrypt {SECRETS} secrets  {resolve:7.3f} ms (target < 5 ms)")
    print(f"       raw baseline: {SECRETS} AESGCM decrypts {raw:7.3f} ms")


def log_lines(start: int, count: int) -> list[dict]:
    rng = random.Random(start)
    return [{"seq": start + i, "text": " ".join(rng.choice(WORDS) for _ in range(12)), "stream": "stdout"}
            for i in range(count)]


def bench_ingest(job):
    mask = job_secret_mask(job)
    batches = [log_lines(1 + i, BATCH) for i in range(0, LINES, BATCH)]

    def ingest(attempt: int, masked: bool) -> float:
        start = time.perf_counter()
        for batch in batches:
            lines = mask.mask_lines(batch) if masked else batch
            log_lines_append(job=job, attempt=attempt, lines=lines)
        return LINES / (time.perf_counter() - start)

    plain = ingest(101, False)
    masked = ingest(102, True)
    start = time.perf_counter()
    for batch in batches:
        mask.mask_lines(batch)
    alone = LINES / (time.perf_counter() - start)
    derived = 1 / (1 / plain + 1 / alone)  # unmasked ingest plus the mask step, without the noise
    print(f"server ingest: unmasked {plain:9.0f} lines/s, masked {masked:9.0f} lines/s "
          f"= {100 * masked / plain:5.1f}% (target > 90%); {len(mask.needles)} needles")
    print(f"       mask step alone {alone:9.0f} lines/s -> ingest + mask {100 * derived / plain:5.1f}% "
          f"of unmasked")


def bench_agent(values):
    texts = [line["text"] for line in log_lines(1, LINES)]

    def ship(masker) -> float:
        with tempfile.TemporaryDirectory() as directory:
            shipper = agent.LogShipper(lambda batch: {}, os.path.join(directory, "spool"), interval=0.05,
                                       mask_texts=masker.mask_texts if masker else None).start()
            start = time.perf_counter()
            for text in texts:
                shipper.add(text)
            shipper.close(timeout=120)
            return LINES / (time.perf_counter() - start)

    plain = ship(None)
    masker = agent.Masker(values)
    masked = ship(masker)
    start = time.perf_counter()
    for offset in range(0, LINES, BATCH):
        masker.mask_texts(texts[offset:offset + BATCH])
    alone = LINES / (time.perf_counter() - start)
    print(f"agent Masker.mask_texts alone {alone:9.0f} lines/s (batches of {BATCH})")
    print(f"agent log path: unmasked {plain:9.0f} lines/s, masked {masked:9.0f} lines/s "
          f"= {100 * masked / plain:5.1f}%")


def main():
    build, job = setup()
    bench_claim(build, job)
    bench_ingest(job)
    bench_agent([str(value) for value in job_secrets(build, job).values()])


if __name__ == "__main__":
    main()
