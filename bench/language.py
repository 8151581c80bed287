"""Benchmark: validate + compile a large pipeline.

Generates 20 stages x 25 jobs x 10 steps (a 4x4 matrix on every fifth job, `needs` chains
inside each stage), then prints validate+compile time and peak memory at 1x, 2x and 4x the number
of stages, each beside a raw baseline measured in the same process: `yaml.safe_load` of the same
text. Target at 1x: under 300 ms and under 100 MB, growing linearly.

    .venv/bin/python bench/language.py [--repeat 5]
"""
import argparse
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apps.process.language import compile_pipeline, validate, yaml_source  # noqa: E402

# The server refuses pipelines over 1 MiB / 100,000 YAML nodes; the 2x and 4x sizes are larger,
# so the benchmark lifts those limits to measure how the work grows.
yaml_source.MAX_BYTES = 64 << 20
yaml_source.MAX_NODES = 10_000_000


def make_job(stage: int, job: int, steps: int) -> dict:
    body = {
        "runs-on": ["self-hosted", "linux"],
        "env": {"STAGE": str(stage), "JOB": str(job)},
        "steps": [
            {"id": f"s{n}", "name": f"step {n}", "run": f"echo stage {stage} job {job} step {n} ${{{{ env.JOB }}}}"}
            for n in range(steps)
        ],
    }
    if job % 5 == 0:
        body["strategy"] = {"matrix": {"py": ["3.10", "3.11", "3.12", "3.13"], "os": ["a", "b", "c", "d"]}}
        body["name"] = "j${{ matrix.py }}-${{ matrix.os }}"
    if job % 5 != 0 and job > 0:
        body["needs"] = [f"s{stage}j{job - 1}"]
    return body


def make_pipeline(stages: int, jobs: int = 25, steps: int = 10) -> str:
    document = {
        "name": "bench",
        "on": {"push": {"branches": ["main"]}},
        "stages": [
            {"name": f"stage {s}", "jobs": {f"s{s}j{j}": make_job(s, j, steps) for j in range(jobs)}}
            for s in range(stages)
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


def timed(function, text: str, repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function(text)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def peak_megabytes(function, text: str) -> float:
    tracemalloc.start()
    function(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024 / 1024


def validate_and_compile(text: str) -> None:
    problems = validate(text)
    if problems:
        raise SystemExit(f"generated pipeline is invalid: {problems[:3]}")
    compile_pipeline(text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    print(f"{'size':>5} {'stages':>6} {'jobs':>6} {'KB':>7} {'compile ms':>11} {'safe_load ms':>13} "
          f"{'ratio':>6} {'peak MB':>8}")
    for scale in (1, 2, 4):
        text = make_pipeline(20 * scale)
        jobs = sum(len(stage["jobs"]) for stage in compile_pipeline(text)["stages"])
        ours = timed(validate_and_compile, text, repeat)
        raw = timed(yaml.safe_load, text, repeat)
        peak = peak_megabytes(validate_and_compile, text)
        print(f"{scale:>4}x {20 * scale:>6} {jobs:>6} {len(text) // 1024:>7} {ours:>11.1f} {raw:>13.1f} "
              f"{ours / raw:>6.2f} {peak:>8.1f}")


if __name__ == "__main__":
    main()
