"""`manage.py pipeline validate | plan | eval | run`, run as a user runs them: a real subprocess."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "docs" / "examples"
BROKEN = """\
name: broken
on: push
jobs:
  build:
    runs-on: [linux]
    needs: [nowhere]
    steps:
      - run: echo ${{ foo( }}
"""


def pipeline(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run(
        [sys.executable, "manage.py", "pipeline", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        env={**env, "LOG_LEVEL": "WARNING"},
        timeout=300,
    )


@pytest.fixture
def broken_file(tmp_path):
    path = tmp_path / "broken.yml"
    path.write_text(BROKEN)
    return path


def test_validate_prints_every_problem_with_file_line_and_column_and_exits_1(broken_file):
    result = pipeline("validate", str(broken_file))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) >= 2
    assert any(line.startswith(f"{broken_file}:6:") and "nowhere" in line for line in lines)
    assert any(line.startswith(f"{broken_file}:8:") for line in lines)


def test_validate_json_and_a_valid_file_exits_0(broken_file):
    result = pipeline("validate", "--format", "json", str(broken_file))
    problems = json.loads(result.stdout)
    assert result.returncode == 1
    assert {problem["line"] for problem in problems} >= {6, 8}
    assert pipeline("validate", str(EXAMPLES / "hello.yml")).returncode == 0


def test_plan_prints_the_compiled_plan_with_the_matrix_expanded():
    result = pipeline("plan", str(EXAMPLES / "dag-matrix.yml"), "--event", "push", "--branch", "main")
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    keys = [job["key"] for stage in plan["stages"] for job in stage["jobs"]]
    assert keys.count("version") == 1
    assert sorted(key for key in keys if key.startswith("test.")) == ["test.0", "test.1", "test.2", "test.3"]


def test_eval_modes(tmp_path):
    context = tmp_path / "context.json"
    context.write_text(json.dumps({"github": {"ref": "refs/heads/main"}, "matrix": {"py": "3.12"}}))
    assert (
        json.loads(pipeline("eval", "github.ref == 'refs/heads/main'", "--context", str(context)).stdout)
        is True
    )
    rendered = pipeline("eval", "py${{ matrix.py }}", "--template", "--context", str(context))
    assert json.loads(rendered.stdout) == "py3.12"
    assert json.loads(pipeline("eval", "${{ failure() }}", "--if", "--status", "failure").stdout) is True
    assert (
        json.loads(pipeline("eval", "github.ref == 'x'", "--if", "--context", str(context)).stdout) is False
    )


def test_eval_jsonl_answers_one_line_per_request():
    requests = [
        {"expr": "1 + ", "mode": "evaluate"},
        {"expr": "format('{0}-{1}', 'a', 'b')"},
        {"expr": "x ${{ env.A }}", "context": {"env": {"A": "1"}}, "mode": "template"},
        {"expr": "always()", "mode": "if"},
    ]
    result = pipeline("eval", "--jsonl", stdin="\n".join(json.dumps(r) for r in requests) + "\n")
    answers = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert "error" in answers[0]
    assert answers[1:] == [{"value": "a-b"}, {"value": "x 1"}, {"value": True}]


@pytest.mark.parametrize("name", ["hello.yml", "stages-finally.yml"])
def test_run_gives_the_expected_statuses_and_exit_code(name):
    expected = json.loads((EXAMPLES / "expected.json").read_text())[name]
    result = pipeline("run", str(EXAMPLES / name), "--json")
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == expected["status"]
    assert {job["id"]: job["status"] for job in outcome["jobs"]} == expected["jobs"]
    assert result.returncode == (0 if expected["status"] == "succeeded" else 1)


def test_run_streams_logs_and_uses_secrets_and_env(tmp_path):
    path = tmp_path / "secret.yml"
    path.write_text(
        "name: s\non: push\njobs:\n  show:\n    runs-on: [anything]\n    steps:\n"
        '      - run: echo "token=${{ secrets.TOKEN }} mode=$MODE"\n'
        "        env: { MODE: '${{ env.MODE }}' }\n"
    )
    result = pipeline("run", str(path), "--secret", "TOKEN=hunter2", "--env", "MODE=fast")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "token=*** mode=fast" in result.stdout
    assert "hunter2" not in result.stdout


GATED_RUN = """\
name: gated
on: push
stages:
  - name: test
    jobs:
      unit:
        runs-on: [anything]
        steps:
          - run: echo "::set-metric name=coverage.line::72.5"
          - run: echo "lint.errors=0" >> "$DEVOPS_METRICS"
  - name: release
    check-in:
      reviews: {reviewers: [nobody], inputs: {target: {type: string, default: staging}}}
      gates:
        - {name: coverage, rule: ["coverage.line >= MIN", "lint.errors == 0"]}
    jobs:
      ship: {runs-on: [anything], steps: [{run: 'echo "to ${{ variables.target }}"'}]}
"""


@pytest.mark.parametrize(
    ("minimum", "approve", "status", "reason"),
    [
        ("80", True, "failed", "gate coverage: coverage.line is 72.5 (wanted coverage.line >= 80)"),
        ("70", True, "succeeded", ""),
        ("70", False, "waiting_review", ""),
    ],
)
def test_run_checks_inline_gates_and_reviews(tmp_path, minimum, approve, status, reason):
    path = tmp_path / "gated.yml"
    path.write_text(GATED_RUN.replace("MIN", minimum))
    result = pipeline("run", str(path), "--json", *(["--approve"] if approve else []))
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == status, result.stdout + result.stderr
    assert reason in outcome["reason"]
    assert result.returncode == (0 if status == "succeeded" else 1)
    ship = next(job for job in outcome["jobs"] if job["id"] == "ship")
    expected = {"succeeded": "succeeded", "failed": "skipped", "waiting_review": "pending"}[status]
    assert ship["status"] == expected
