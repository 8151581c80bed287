"""Benchmark: build log ingest, download and paging, each beside a raw baseline of the same run.

- ingest: `log_lines_append` (parse, mask, level, budget, one chunk row per batch, cursor, publish
  on commit) for --lines lines in batches of --batch, in lines per second; baselines: a plain
  INSERT of the same batches already encoded as chunk rows, one transaction each, and writing the
  same lines to a local file;
- download: the raw text of the ingested log (`log_text_chunks`), in seconds;
- paging: 1,000 lines at a random offset (`log_lines_page`), median over 50 pages, in ms.

    .venv/bin/python bench/logs.py [--lines 100000] [--batch 1000] [--database URL] [--no-search-index]

By default it uses PostgreSQL on loopback with its own database `devops_logs_bench` (dropped and
created first); `--database sqlite` uses a fresh SQLite file instead. `--no-search-index` drops the
pg_trgm index first, to show what it costs ingest. The agent's side of ingest (reading the step's
output, HTTP) is measured end to end by bench/live.py.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/devops_logs_bench"
PIPELINE = "name: bench\non: push\njobs:\n  one:\n    runs-on: [self-hosted]\n    steps:\n      - run: echo\n"


def prepare(database: str) -> None:
    os.environ.update(LOG_LEVEL="WARNING", DEVOPS_VAR_DIR=tempfile.mkdtemp(prefix="devops-logs-bench-"))
    if database == "sqlite":
        os.environ.pop("DATABASE_URL", None)
    else:
        import psycopg

        base, name = database.rsplit("/", 1)
        with psycopg.connect(f"{base}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            connection.execute(f"CREATE DATABASE {name}")
        os.environ["DATABASE_URL"] = database
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devops.settings")
    subprocess.run([PYTHON, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env=os.environ)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def make_jobs(count: int) -> list:
    from apps.core.services import project_create
    from apps.core.testing import make_user
    from apps.process.services import pipeline_create
    from apps.process.services.builds import build_start

    owner = make_user("bench", is_superuser=True)
    project = project_create(user=owner, slug="bench", name="Bench")
    pipeline = pipeline_create(project=project, user=owner, name="bench", yaml=PIPELINE)
    return [build_start(pipeline=pipeline, user=owner).jobs.get() for _ in range(count)]


def agent_lines(count: int) -> list[dict]:
    """Lines as the agent sends them from a step printing 100,000 lines a second."""
    start = datetime(2025, 1, 31, 12, tzinfo=UTC)
    return [
        {
            "seq": seq,
            "ts": (start + timedelta(milliseconds=seq // 100)).isoformat(timespec="milliseconds")[:-6] + "Z",
            "step": 0,
            "stream": "stdout",
            "text": f"{'##[warning]' if seq % 1000 == 0 else ''}line {seq}: compiling module_{seq % 977}.py",
        }
        for seq in range(1, count + 1)
    ]


def raw_insert(job_id: int, chunk) -> None:
    from django.db import connection, transaction

    columns = "job_id, attempt, first_seq, last_seq, line_count, text, meta, indexed"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO log_logchunk ({columns}) VALUES (%s, %s, %s, %s, %s, %s, %s, false)",
            [job_id, 1, chunk.first_seq, chunk.last_seq, chunk.line_count, chunk.text, chunk.meta],
        )


def timed(function) -> float:
    began = time.perf_counter()
    function()
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE))
    parser.add_argument("--no-search-index", action="store_true")
    options = parser.parse_args()
    prepare(options.database)

    from django.db import connection

    if options.no_search_index and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS log_chunk_text_trgm")

    from apps.log.chunks import chunk_encode
    from apps.log.lines import parse_lines
    from apps.log.selectors import log_lines_page, log_text_chunks
    from apps.log.services import log_lines_append

    ours, raw = make_jobs(2)
    lines = agent_lines(options.lines)
    batches = [lines[start:start + options.batch] for start in range(0, len(lines), options.batch)]
    raw_batches = [chunk_encode(parse_lines(batch, [])) for batch in batches]

    def ingest():
        for batch in batches:
            log_lines_append(job=ours, attempt=1, lines=batch)

    def baseline():
        for batch in raw_batches:
            raw_insert(raw.id, batch)

    def to_file():
        with tempfile.NamedTemporaryFile("w", delete=True) as handle:
            for batch in batches:
                handle.write("".join(f"{line['text']}\n" for line in batch))
                handle.flush()

    ingest_s, baseline_s, file_s = timed(ingest), timed(baseline), timed(to_file)
    count = options.lines
    index = " without the search index" if options.no_search_index else ""
    print(f"database: {connection.vendor}{index}; {count} lines in batches of {options.batch}")
    print(f"ingest (log_lines_append):  {count / ingest_s:>12,.0f} lines/s  ({ingest_s:.2f} s)")
    print("raw INSERT of the chunks:   "
          f"{count / baseline_s:>12,.0f} lines/s  ({baseline_s:.2f} s)  ratio {baseline_s / ingest_s:.2f}")
    print(f"local file baseline:        {count / file_s:>12,.0f} lines/s  ({file_s:.3f} s)")

    download_s = timed(lambda: sum(len(piece) for piece in log_text_chunks(job=ours, attempt=1)))
    print(f"download raw text:          {download_s:.3f} s for {count} lines")
    pages = []
    for _ in range(50):
        offset = random.randrange(0, max(count - 1000, 1))
        page = lambda offset=offset: log_lines_page(job=ours, attempt=1, after_seq=offset, limit=1000)  # noqa: E731
        pages.append(timed(page))
    print(f"page of 1,000 lines:        {statistics.median(pages) * 1000:.1f} ms median")


if __name__ == "__main__":
    main()
