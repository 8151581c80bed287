"""Benchmark: validate + compile a large pipeline.

Generates 20 stages x 25 jobs x 10 steps (a 4x4 matrix on every fifth job, `needs` chains
inside each stage), then prints, at 1x, 2x and 4x the number of stages, the median time of
`validate(text)` alone, `compile_pipeline(text)` alone and `validate` then `compile_pipeline` ("v+c",
as the server does when a pipeline is saved), its CPU time and peak memory, beside two raw baselines
measured in the same process: `yaml.safe_load` (pure Python) and `yaml.load(..., Loader=CSafeLoader)`;
"ratio" and "ratio C" divide v+c by each. Target at 1x: v+c under 300 ms and under 100 MB, growing
linearly.

Every sample starts cold: the language keeps the trees of the last few texts it read (so `compile`
after `validate` does not parse the same text again), and the benchmark empties that cache first.
On a shared machine, read the CPU column: wall time includes waiting for a core.

    .venv/bin/python bench/language.py [--repeat 5]
"""
import argparse
import os
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
READ_JOB = "${{ env.JOB }}"


def make_job(stage: int, job: int, steps: int) -> dict:
    body = {
        "runs-on": ["self-hosted", "linux"],
        "env": {"STAGE": str(stage), "JOB": str(job)},
        "steps": [
            {"id": f"s{n}", "name": f"step {n}", "run": f"echo stage {stage} job {job} step {n} {READ_JOB}"}
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


def medians(function, text: str, repeat: int) -> tuple[float, float]:
    """Median wall and CPU milliseconds of `function(text)`, each run with no cached tree."""
    wall, cpu = [], []
    for _ in range(repeat):
        yaml_source.forget_sources()
        started, started_cpu = time.perf_counter(), time.process_time()
        function(text)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def peak_megabytes(function, text: str) -> float:
    yaml_source.forget_sources()
    tracemalloc.start()
    function(text)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024 / 1024


def validate_only(text: str) -> None:
    problems = validate(text)
    if problems:
        raise SystemExit(f"generated pipeline is invalid: {problems[:3]}")


def validate_and_compile(text: str) -> None:
    validate_only(text)
    compile_pipeline(text)


def c_safe_load(text: str) -> None:
    yaml.load(text, Loader=yaml.CSafeLoader)


HEADER = (
    f"{'size':>5} {'jobs':>5} {'KB':>5} {'validate':>9} {'compile':>8} {'v+c':>7} {'v+c cpu':>8} "
    f"{'safe_load':>10} {'CSafeLoader':>12} {'ratio':>6} {'ratio C':>8} {'peak MB':>8}"
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    repeat = parser.parse_args().repeat
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"median of {repeat} runs, milliseconds; load average {load} on {os.cpu_count()} cores")
    print(HEADER)
    for scale in (1, 2, 4):
        text = make_pipeline(20 * scale)
        jobs = sum(len(stage["jobs"]) for stage in compile_pipeline(text)["stages"])
        validate_ms = medians(validate_only, text, repeat)[0]
        compile_ms = medians(compile_pipeline, text, repeat)[0]
        both_ms, both_cpu = medians(validate_and_compile, text, repeat)
        raw = medians(yaml.safe_load, text, repeat)[0]
        raw_c = medians(c_safe_load, text, repeat)[0]
        peak = peak_megabytes(validate_and_compile, text)
        print(
            f"{scale:>4}x {jobs:>5} {len(text) // 1024:>5} {validate_ms:>9.1f} {compile_ms:>8.1f} "
            f"{both_ms:>7.1f} {both_cpu:>8.1f} {raw:>10.1f} {raw_c:>12.1f} {both_ms / raw:>6.2f} "
            f"{both_ms / raw_c:>8.2f} {peak:>8.1f}"
        )


if __name__ == "__main__":
    main()
