"""Every shared example pipeline, run through the engine with an explicit script of what its
steps do, ends with exactly the statuses in examples/expected.json."""

from __future__ import annotations

import json

import pytest

from .plans import EXAMPLES, plan_of
from .simulate import Script, simulate

SCRIPTS = {
    "hello.yml": {},
    "dag-matrix.yml": {"version": Script(outputs={0: {"value": "1.2.3"}})},
    "stages-finally.yml": {"broken": Script(fail=[0])},
    "continue-on-error.yml": {"tolerant": Script(fail=[0]), "strict": Script(fail=[0])},
    "bkci-style.yml": {"meta": Script(outputs={0: {"artifact": "app-staging.tgz"}})},
    "env-files.yml": {
        "files": Script(
            outputs={0: {"notes": "line one\nline two"}},
            env={0: {"FROM_STEP": "one"}},
            path={0: ["/tmp/runner/bin"]},
        )
    },
}


def expected() -> dict:
    return (
        json.loads((EXAMPLES / "expected.json").read_text()) if (EXAMPLES / "expected.json").is_file() else {}
    )


def run_example(name: str):
    return simulate(plan_of((EXAMPLES / name).read_text()), SCRIPTS[name])


def test_every_example_has_a_script():
    assert sorted(SCRIPTS) == sorted(expected())


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_example_ends_with_the_expected_statuses(name):
    sim = run_example(name)
    assert sim.state.status == expected()[name]["status"]
    assert sim.job_statuses() == expected()[name]["jobs"]
    assert all(stage.status in {"succeeded", "failed", "skipped"} for stage in sim.state.stages)


def test_dag_matrix_renders_the_needed_output_and_the_matrix():
    sim = run_example("dag-matrix.yml")
    runs = [step["run"] for key in ("test.0", "test.1", "test.2", "test.3") for step in sim.rendered[key]]
    assert runs.count('test "1.2.3" = "1.2.3"') == 4
    assert sorted(run for run in runs if run.startswith("echo")) == [
        'echo "$GREETING 3.11 debian"',
        'echo "$GREETING 3.12 alpine"',
        'echo "$GREETING 3.12 debian"',
        'echo "$GREETING 3.13 debian"',
    ]
    assert sim.rendered["test.0"][1]["env"]["GREETING"] == "hi"
    assert sim.rendered["publish"][0]["run"] == 'echo "publishing 1.2.3"'
    assert "report-failure" not in sim.rendered


def test_stages_finally_runs_cleanup_and_the_failure_report_only():
    sim = run_example("stages-finally.yml")
    assert set(sim.rendered) == {"compile", "broken", "cleanup", "on-failure"}
    assert sim.state.stages[1].reason == "an earlier stage failed"


def test_continue_on_error_outcome_and_conclusion():
    sim = run_example("continue-on-error.yml")
    tolerant = sim.rendered["tolerant"]
    assert [step["index"] for step in tolerant] == [0, 1, 3]
    assert 'test "failure" = failure' in tolerant[1]["run"]
    assert 'test "success" = success' in tolerant[1]["run"]
    assert sim.step_statuses("tolerant") == ["failed", "succeeded", "skipped", "succeeded"]
    assert sim.ran("strict") == [0, 2]
    assert sim.step_statuses("strict") == ["failed", "skipped", "succeeded"]


def test_bkci_style_reads_an_earlier_stage_step_output():
    sim = run_example("bkci-style.yml")
    assert "app-staging.tgz" in sim.rendered["meta"][0]["run"]
    assert sim.rendered["package"][0]["run"] == 'test "app-staging.tgz" = app-staging.tgz'


def test_env_files_carry_env_path_and_multiline_outputs_to_later_steps():
    sim = run_example("env-files.yml")
    second, third = sim.rendered["files"][1:]
    assert second["env"]["FROM_STEP"] == "one" and third["env"]["FROM_STEP"] == "one"
    assert second["path"] == ["/tmp/runner/bin"]
    assert 'test "line one\nline two" = "line one' in second["run"]
    assert third["shell"] == "python"
