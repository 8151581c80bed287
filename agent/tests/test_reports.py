"""`::upload-report`: the agent reads the named file when the step ends and hands it to the server
call; every problem (missing file, unknown type, too big, refused, server away) is a warning line
of the step, never a failed step."""

import threading

import pytest

from agent import devops_agent as agent

JUNIT = b'<testsuite tests="1"><testcase name="t"/></testsuite>'


class Uploads:
    """The `upload_report` collaborator: records each call and answers or raises as told."""

    def __init__(self):
        self.calls = []
        self.error = None

    def __call__(self, kind, path, content, step):
        self.calls.append((kind, path, content, step))
        if self.error is not None:
            raise self.error
        return {"type": kind, "metrics": {"tests.total": 1, "tests.failed": 0}}


@pytest.fixture
def uploads():
    return Uploads()


@pytest.fixture
def executor(job_paths, recorded, uploads):
    return agent.StepExecutor(paths=job_paths, runner_name="test-runner", masker=recorded.masker,
                              write_line=recorded, cancel=threading.Event(), upload_report=uploads)


def run(executor, script, index=0, **extra):
    step = {"index": index, "attempt": 1, "kind": "run", "run": script, "shell": "bash"}
    return executor.run({**step, **extra})


def warnings(recorded):
    return [text for text in recorded.texts("system") if text.startswith("##[warning]")]


def test_the_named_file_is_uploaded_after_the_step_even_a_failed_one(executor, recorded, uploads):
    script = """
echo "::upload-report type=JUnit::out/junit.xml"
mkdir -p out
printf '%s' '""" + JUNIT.decode() + """' > out/junit.xml
exit 3
"""
    result = run(executor, script, index=4)
    assert (result.status, result.exit_code) == ("failed", 3)
    assert uploads.calls == [("junit", "out/junit.xml", JUNIT, 4)]
    assert "::upload-report type=JUnit::out/junit.xml" in recorded.texts("stdout")
    uploaded = "Uploaded the junit report out/junit.xml: tests.total=1, tests.failed=0"
    assert uploaded in recorded.texts("system")
    assert result.reports == [("junit", "out/junit.xml")]
    assert "reports" not in result.as_completed()


def test_paths_are_relative_to_the_working_directory_or_absolute(executor, uploads, job_paths, tmp_path):
    elsewhere = tmp_path / "coverage.xml"
    elsewhere.write_bytes(b"<coverage line-rate='1'/>")
    script = f"""mkdir -p sub/reports && printf x > sub/reports/junit.xml
echo "::upload-report type=coverage::{elsewhere}"
"""
    assert run(executor, script).status == "succeeded"
    assert run(executor, 'echo "::upload-report type=junit::reports/junit.xml"', index=1,
               working_directory="sub").status == "succeeded"
    assert [(kind, content) for kind, _, content, _ in uploads.calls] == [
        ("coverage", b"<coverage line-rate='1'/>"), ("junit", b"x")]


def test_problems_are_warnings_and_the_step_still_succeeds(executor, recorded, uploads, monkeypatch):
    monkeypatch.setattr(agent, "REPORT_MAX_BYTES", 10)
    script = """printf '0123456789ABC' > big.xml
mkdir -p a-directory
echo "::upload-report type=junit::missing.xml"
echo "::upload-report type=lcov::big.xml"
echo "::upload-report::big.xml"
echo "::upload-report type=coverage::"
echo "::upload-report type=junit::big.xml"
echo "::upload-report type=junit::a-directory"
"""
    result = run(executor, script)
    assert result.status == "succeeded" and uploads.calls == []
    assert warnings(recorded) == [
        "##[warning]upload-report junit missing.xml: no such file",
        "##[warning]upload-report lcov big.xml: type= must be one of junit, coverage",
        "##[warning]upload-report (no type) big.xml: type= must be one of junit, coverage",
        "##[warning]upload-report coverage (no path): name the report's file after '::'",
        "##[warning]upload-report junit big.xml: larger than 10 bytes, not uploaded",
        "##[warning]upload-report junit a-directory: no such file",
    ]


@pytest.mark.parametrize(
    ("error", "warning"),
    [
        (agent.RequestRejected(400, "invalid_report", "the report has a DOCTYPE"),
         "##[warning]upload-report junit r.xml: the server refused it: the report has a DOCTYPE"),
        (agent.TransientError("POST jobs/1/reports: HTTP 503"),
         "##[warning]upload-report junit r.xml: not uploaded (POST jobs/1/reports: HTTP 503)"),
    ],
)
def test_a_refusal_or_an_absent_server_is_a_warning(executor, recorded, uploads, error, warning):
    uploads.error = error
    result = run(executor, 'printf x > r.xml\necho "::upload-report type=junit::r.xml"')
    assert result.status == "succeeded"
    assert warnings(recorded) == [warning]


def test_without_a_server_call_the_agent_says_so(job_paths, recorded):
    executor = agent.StepExecutor(paths=job_paths, runner_name="r", masker=recorded.masker,
                                  write_line=recorded)
    assert run(executor, 'printf x > r.xml\necho "::upload-report type=junit::r.xml"').status == "succeeded"
    assert warnings(recorded) == ["##[warning]upload-report junit r.xml: this agent has no server to send to"]


def test_the_job_api_posts_the_file_base64_encoded(monkeypatch):
    sent = []

    class Client:
        def call(self, method, path, body=None, *, attempts=None, **options):
            sent.append((method, path, body, attempts))
            return 200, {"metrics": {}}

    agent.JobApi(Client(), "42").upload_report("junit", "out/j.xml", b"<x/>\xff", 3)
    assert sent == [("POST", "jobs/42/reports",
                     {"type": "junit", "path": "out/j.xml", "step": 3, "content": "PHgvPv8="}, 3)]
