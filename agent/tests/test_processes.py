"""Process groups: timeouts and cancels kill the step and everything it started, quickly."""

import os
import threading
import time

from agent import devops_agent as agent
from agent.tests.conftest import process_running, wait_for_file

GRANDCHILD = """
sleep 300 &
echo $! > "{pidfile}"
echo started
sleep 300
"""


def run_step(executor, script, **extra):
    step = {"index": 0, "attempt": 1, "kind": "run", "shell": "bash", "run": script, **extra}
    return executor.run(step, timeout=extra.get("timeout_seconds"))


def test_step_timeout_kills_the_whole_process_group(executor, recorded, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    started = time.monotonic()
    result = run_step(executor, GRANDCHILD.format(pidfile=pidfile), timeout_seconds=1)
    elapsed = time.monotonic() - started
    assert result.status == "timed_out"
    assert elapsed < 4, elapsed
    grandchild = int(pidfile.read_text())
    assert not process_running(grandchild)
    assert "started" in recorded.texts("stdout")
    assert any("timed out after 1 s" in text for text in recorded.texts("system"))


def test_cancel_kills_the_group_within_two_seconds_even_when_sigterm_is_ignored(executor, tmp_path):
    pidfile = tmp_path / "grandchild.pid"
    script = "trap '' TERM\n" + GRANDCHILD.format(pidfile=pidfile)
    outcome = {}
    thread = threading.Thread(target=lambda: outcome.update(result=run_step(executor, script)))
    thread.start()
    grandchild = int(wait_for_file(pidfile))
    asked = time.monotonic()
    executor.cancel.set()
    thread.join(5)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 2.0
    assert outcome["result"].status == "canceled"
    assert not process_running(grandchild)


def test_a_background_child_holding_the_output_open_does_not_hang_the_step(executor, recorded, tmp_path):
    pidfile = tmp_path / "daemon.pid"
    started = time.monotonic()
    result = run_step(executor, f'sleep 300 &\necho $! > "{pidfile}"\necho done')
    assert result.status == "succeeded"
    assert time.monotonic() - started < 4
    daemon = int(pidfile.read_text())
    assert process_running(daemon)
    executor.kill_leftovers()
    assert not process_running(daemon)
    assert any("Cleaning up orphan processes" in text for text in recorded.texts("system"))


def test_run_process_merges_streams_and_splits_long_lines(tmp_path):
    lines = []
    script = "import sys\nprint('out')\nprint('err', file=sys.stderr)\nprint('x' * 40000)\nsys.exit(3)"
    result = agent.run_process([agent.sys.executable, "-c", script], cwd=str(tmp_path), env=dict(os.environ),
                               on_lines=lines.extend)
    assert (result.exit_code, result.stopped, result.status) == (3, None, "failed")
    assert "out" in lines and "err" in lines
    long_parts = [line for line in lines if line.startswith("x")]
    assert [len(part) for part in long_parts] == [16384, 16384, 40000 - 2 * 16384]


def test_process_output_without_final_newline_is_kept(tmp_path):
    lines = []
    agent.run_process(["printf", "a\\r\\nb"], cwd=str(tmp_path), env=dict(os.environ), on_lines=lines.extend)
    assert lines == ["a", "b"]


def test_a_missing_program_fails_the_step(executor, recorded):
    result = run_step(executor, "echo hi", shell="no-such-shell-binary {0}")
    assert result.status == "failed"
    assert any("cannot start no-such-shell-binary" in text for text in recorded.texts("system"))
