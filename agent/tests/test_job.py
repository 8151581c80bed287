"""A whole job driven through JobRunner, its server calls answered by an in-process object."""

import os
import threading
import time

from agent import devops_agent as agent

FAST_SHIPPING = {"interval": 0.02, "backoff": agent.Backoff(initial=0.02, maximum=0.1)}


class ScriptedJobApi:
    """Answers next_step from a list of steps (a list item [step, *followers] hands out `then`
    too); records what the runner reports."""

    def __init__(self, steps, offline_log_calls=0):
        self.steps = list(steps)
        self.completed = []
        self.lines = []
        self.runners = []
        self.finished = None
        self.finished_with_lines = None
        self.cancel_in_logs = False
        self.offline_log_calls = offline_log_calls
        self.reject_next_step_after = None
        self.progress_reports = []

    def next_step(self, runner, completed):
        self.runners.append(runner)
        self.completed.extend(completed)
        if self.reject_next_step_after is not None and len(self.runners) > self.reject_next_step_after:
            raise agent.RequestRejected(409, "lease_lost", "this job is no longer leased to you")
        if not self.steps:
            return {"done": True}
        step, *then = self.steps.pop(0) if isinstance(self.steps[0], list) else [self.steps.pop(0)]
        return {"step": step, "then": then}

    def progress(self, completed, running):
        self.progress_reports.append(([report["index"] for report in completed], running["index"]))
        return {"cancel": False}

    def send_logs(self, lines):
        if self.offline_log_calls:
            self.offline_log_calls -= 1
            raise agent.TransientError("POST logs: HTTP 503")
        self.lines.extend(lines)
        return {"stored_through": self.lines[-1]["seq"], "cancel": self.cancel_in_logs}

    def finish(self, status, error, lines=None, completed=None, runner=None):
        self.finish_runner = runner
        self.lines.extend(lines or [])
        self.completed.extend(completed or [])
        self.finished = (status, error)
        self.finished_with_lines = [line["seq"] for line in self.lines]
        return {"stored_through": self.lines[-1]["seq"] if self.lines else 0}

    def texts(self):
        return [line["text"] for line in self.lines]


def make_job(**extra):
    job = {"id": "job-42", "attempt": 1, "name": "test", "key": "test.0", "workspace": "acme/demo/test.0",
           "timeout_seconds": 60, "env": {"CI": "true", "TOKEN": "tok-very-secret-1"},
           "mask": ["tok-very-secret-1"], "checkout": None}
    job.update(extra)
    return job


def run_step(index, script, shell="bash", **extra):
    return {"index": index, "attempt": 1, "name": f"step {index}", "kind": "run", "run": script,
            "shell": shell, "env": {}, "timeout_seconds": None, "mask": [], **extra}


def runner_for(api, tmp_path, **job):
    return agent.JobRunner(make_job(**job), api, workdir=str(tmp_path / "work"), runner_name="build-01",
                           shipper_options=dict(FAST_SHIPPING))


def test_a_job_runs_its_steps_in_order_and_finishes_after_every_line_is_stored(tmp_path):
    api = ScriptedJobApi([
        run_step(0, 'echo "GREETING=hello" >> "$DEVOPS_ENV"\necho "token is $TOKEN"'),
        run_step(1, 'import os\nprint("greeting", os.environ["GREETING"])', shell="python"),
        run_step(2, "echo failing; exit 4", shell="sh"),
    ], offline_log_calls=3)
    runner = runner_for(api, tmp_path)
    assert runner.run() == "failed"
    assert [(step["index"], step["status"], step["exit_code"]) for step in api.completed] == [
        (0, "succeeded", 0), (1, "succeeded", 0), (2, "failed", 4)]
    assert api.completed[0]["env"] == {"GREETING": "hello"}
    assert api.finished == ("failed", None)
    assert api.finished_with_lines == list(range(1, len(api.lines) + 1))
    assert api.texts()[-1] == "Job finished: failed"
    assert "token is ***" in api.texts() and "greeting hello" in api.texts()
    assert not any("tok-very-secret-1" in text for text in api.texts())
    workspace = api.runners[0]["workspace"]
    assert workspace == str(tmp_path / "work" / "acme" / "demo" / "test.0") and os.path.isdir(workspace)
    assert api.runners[0]["name"] == "build-01" and api.runners[0]["os"] == agent.runner_os()
    assert not os.path.exists(runner.paths.state)


def test_a_first_step_handed_out_with_the_claim_runs_without_asking(tmp_path):
    api = ScriptedJobApi([run_step(1, "echo second")])
    first = {"step": run_step(0, "echo first"), "then": []}
    runner = runner_for(api, tmp_path, next=first)
    assert runner.run() == "succeeded"
    assert [step["index"] for step in api.completed] == [0, 1]  # step 0 reported by the first call
    assert len(api.runners) == 2 and "first" in api.texts() and "second" in api.texts()

    api = ScriptedJobApi([])
    runner = runner_for(api, tmp_path, next={"step": run_step(0, "echo only", last=True), "then": []})
    assert runner.run() == "succeeded"
    assert api.runners == [] and [step["index"] for step in api.completed] == [0]
    assert api.finish_runner["workspace"] == str(tmp_path / "work" / "acme" / "demo" / "test.0")


def test_a_cancel_in_the_logs_answer_stops_the_running_step(tmp_path):
    api = ScriptedJobApi([run_step(0, "echo started\nsleep 30"), run_step(1, "echo never")])
    runner = runner_for(api, tmp_path)
    thread = threading.Thread(target=runner.run)
    thread.start()
    deadline = time.monotonic() + 5
    while "started" not in api.texts() and time.monotonic() < deadline:
        time.sleep(0.02)
    asked = time.monotonic()
    api.cancel_in_logs = True
    runner.write_line("a line whose batch gets the cancel answer", 0)
    thread.join(10)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 3
    assert [step["status"] for step in api.completed] == ["canceled"]
    assert api.finished[0] == "canceled"
    assert "never" not in api.texts()


def test_cancel_from_the_heartbeat_kills_within_two_seconds(tmp_path):
    api = ScriptedJobApi([run_step(0, "trap '' TERM\necho started\nsleep 30")])
    runner = runner_for(api, tmp_path)
    thread = threading.Thread(target=runner.run)
    thread.start()
    deadline = time.monotonic() + 5
    while "started" not in api.texts() and time.monotonic() < deadline:
        time.sleep(0.02)
    asked = time.monotonic()
    runner.cancel()
    while not api.completed and time.monotonic() - asked < 5:
        time.sleep(0.01)
    assert time.monotonic() - asked < 2
    thread.join(10)
    assert api.completed[0]["status"] == "canceled" and api.finished[0] == "canceled"


def test_the_job_timeout_stops_the_step_and_skips_the_rest(tmp_path):
    api = ScriptedJobApi([run_step(0, "sleep 30", timeout_seconds=300), run_step(1, "echo never")])
    started = time.monotonic()
    assert runner_for(api, tmp_path, timeout_seconds=1).run() == "timed_out"
    assert time.monotonic() - started < 5
    assert [step["status"] for step in api.completed] == ["timed_out"]
    assert api.finished == ("timed_out", "the job timed out after 1 s")
    assert "never" not in api.texts()


def test_a_refused_step_call_stops_the_job_locally_without_finishing(tmp_path):
    api = ScriptedJobApi([run_step(0, "echo one"), run_step(1, "echo two")])
    api.reject_next_step_after = 1
    runner = runner_for(api, tmp_path)
    assert runner.run() == "failed"
    assert api.finished is None
    assert not os.path.exists(runner.paths.state)


def test_a_job_that_cannot_be_prepared_finishes_failed(tmp_path):
    api = ScriptedJobApi([run_step(0, "echo never")])
    assert runner_for(api, tmp_path, workspace="../outside").run() == "failed"
    assert api.finished[0] == "failed" and "refusing workspace" in api.finished[1]
    assert api.runners == []


def test_running_jobs_never_share_a_workspace():
    locks = agent.WorkspaceLocks()
    assert [locks.acquire("a/b"), locks.acquire("a/b"), locks.acquire("a/b")] == ["a/b", "a/b@2", "a/b@3"]
    locks.release("a/b")
    assert locks.acquire("a/b") == "a/b"


def test_no_log_line_exceeds_16_kib_even_the_agents_own(tmp_path):
    api = ScriptedJobApi([run_step(0, "# " + "z" * 40000 + "\nprintf '%050000d\\n' 7")])
    assert runner_for(api, tmp_path).run() == "succeeded"
    assert max(len(line["text"].encode()) for line in api.lines) == 16384
    assert sum(len(line["text"]) for line in api.lines if line["stream"] == "stdout") == 50000


class SlowAfterFirstStep(ScriptedJobApi):
    """Takes longer than the job's timeout to hand out the second step."""

    def next_step(self, runner, completed):
        if completed and not self.completed:
            time.sleep(1.2)
        return super().next_step(runner, completed)


def test_a_job_timeout_between_steps_reports_the_next_step_as_not_run(tmp_path):
    steps = [run_step(0, "echo quick"), run_step(1, "echo never"), run_step(2, "echo nor this")]
    api = SlowAfterFirstStep(steps)
    assert runner_for(api, tmp_path, timeout_seconds=1).run() == "timed_out"
    assert [(step["index"], step["status"], step["exit_code"]) for step in api.completed] == [
        (0, "succeeded", 0), (1, "timed_out", None)]
    assert api.completed[1]["started_at"] == api.completed[1]["finished_at"]
    assert api.finished == ("timed_out", "the job timed out after 1 s")
    assert "never" not in api.texts() and "nor this" not in api.texts()
    assert "##[error]Not run: the job timed out after 1 s" in api.texts()


def test_steps_handed_out_in_then_run_without_asking_and_are_reported_together(tmp_path):
    api = ScriptedJobApi([[run_step(0, "echo a"), run_step(1, "echo b"), run_step(2, "echo c")]])
    assert runner_for(api, tmp_path).run() == "succeeded"
    assert len(api.runners) == 2
    assert [(step["index"], step["status"]) for step in api.completed] == [
        (0, "succeeded"), (1, "succeeded"), (2, "succeeded")]
    assert api.progress_reports == []


def test_a_failing_step_stops_the_steps_that_follow_it_from_then(tmp_path):
    api = ScriptedJobApi([[run_step(0, "echo a; exit 3"), run_step(1, "echo never")]])
    assert runner_for(api, tmp_path).run() == "failed"
    assert [(step["index"], step["status"]) for step in api.completed] == [(0, "failed")]
    assert "never" not in api.texts()


def test_a_step_exporting_env_or_path_makes_the_agent_ask_again(tmp_path):
    api = ScriptedJobApi([
        [run_step(0, 'echo "X=1" >> "$DEVOPS_ENV"'), run_step(1, "echo not from then")],
        [run_step(2, 'echo "/opt/tool" >> "$DEVOPS_PATH"'), run_step(3, "echo nor this")],
    ])
    assert runner_for(api, tmp_path).run() == "succeeded"
    assert [step["index"] for step in api.completed] == [0, 2]
    assert "not from then" not in api.texts() and "nor this" not in api.texts()


def test_a_follower_still_running_after_half_a_second_is_reported_running(tmp_path):
    api = ScriptedJobApi([[run_step(0, "echo a"), run_step(1, "sleep 0.8"), run_step(2, "echo c")]])
    assert runner_for(api, tmp_path).run() == "succeeded"
    assert api.progress_reports == [([0], 1)]
    assert [step["index"] for step in api.completed] == [0, 1, 2]


def test_the_last_step_is_reported_with_finish_without_asking_again(tmp_path):
    api = ScriptedJobApi([[run_step(0, "echo a"), run_step(1, "echo b", last=True)], run_step(2, "echo c")])
    assert runner_for(api, tmp_path).run() == "succeeded"
    assert len(api.runners) == 1
    assert [step["index"] for step in api.completed] == [0, 1]
    assert api.finished == ("succeeded", None)
    assert "c" not in api.texts()


def test_env_an_earlier_step_exported_comes_back_masked_and_the_step_gets_the_real_value(tmp_path):
    exported = run_step(0, 'echo "EXPORTED=$TOKEN" >> "$DEVOPS_ENV"')
    check = '[ "$EXPORTED" = "$TOKEN" ] && [ "$OTHER" = "***" ] && echo "intact"'
    later = run_step(1, check, env={"EXPORTED": "***", "OTHER": "***"})
    api = ScriptedJobApi([exported, later])
    assert runner_for(api, tmp_path).run() == "succeeded"
    assert api.completed[0]["env"] == {"EXPORTED": "tok-very-secret-1"}  # the server stores it masked
    assert "intact" in api.texts()
