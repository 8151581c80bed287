"""Fixtures for the agent tests: a job's directories and a step executor that records its lines."""

import os
import threading
import time

import pytest

from agent import devops_agent as agent


def process_running(pid: int) -> bool:
    """True while pid is a live process (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in (b"Z", b"X")


def wait_for_file(path, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path) and os.path.getsize(path):
            return open(path).read().strip()
        time.sleep(0.02)
    raise AssertionError(f"{path} never appeared")


class RecordedLines:
    """A write_line collaborator that masks like the job does and keeps every line."""

    def __init__(self, masker):
        self.masker = masker
        self.lines = []
        self.lock = threading.Lock()

    def __call__(self, text, step, stream):
        with self.lock:
            self.lines.append((self.masker.mask(text), step, stream))

    def texts(self, stream=None):
        return [text for text, _, kind in self.lines if stream is None or kind == stream]


@pytest.fixture
def job_paths(tmp_path):
    return agent.JobPaths.create(str(tmp_path / "work"), "acme/demo/test.0", "job-1")


@pytest.fixture
def recorded():
    return RecordedLines(agent.Masker())


@pytest.fixture
def executor(job_paths, recorded):
    return agent.StepExecutor(paths=job_paths, runner_name="test-runner", masker=recorded.masker,
                              write_line=recorded, job_env={"JOB_LEVEL": "job", "SHARED": "from-job"},
                              cancel=threading.Event())
