"""Steps run for real with each shell: environment, command files, workflow commands, failures."""

import os
import sys

import pytest

from agent import devops_agent as agent


def run(executor, script, *, shell="bash", index=0, **extra):
    return executor.run({"index": index, "attempt": 1, "name": f"step {index}", "kind": "run", "run": script,
                         "shell": shell, **extra})


def test_bash_step_exports_env_path_and_heredoc_outputs(executor, recorded):
    result = run(executor, """
echo "FROM_STEP=one" >> "$GITHUB_ENV"
mkdir -p "$RUNNER_TEMP/bin"
printf '#!/bin/sh\\necho tool-ok\\n' > "$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
{ echo "notes<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$GITHUB_OUTPUT"
echo "simple=yes" >> "$DEVOPS_OUTPUT"
echo "coverage.line=91.5" >> "$DEVOPS_METRICS"
echo hello from bash
""")
    assert result.status == "succeeded" and result.exit_code == 0
    assert result.outputs == {"notes": "line one\nline two", "simple": "yes"}
    assert result.env == {"FROM_STEP": "one"}
    assert result.path == [os.path.join(executor.paths.temp, "bin")]
    assert result.metrics == {"coverage.line": 91.5}
    assert ("hello from bash", 0, "stdout") in recorded.lines
    completed = result.as_completed()
    assert completed["index"] == 0 and completed["started_at"] <= completed["finished_at"]

    second = run(executor, 'test "$FROM_STEP" = one\ntest "$(mytool)" = tool-ok\n'
                           'echo "outputs file fresh: $(wc -c < "$GITHUB_OUTPUT")"', index=1)
    assert second.status == "succeeded", recorded.texts()
    assert "outputs file fresh: 0" in recorded.texts("stdout")

    python = ('import os, shutil\nassert os.environ["FROM_STEP"] == "one"\n'
              'print(shutil.which("mytool") is not None)')
    third = run(executor, python, shell="python", index=2)
    assert third.status == "succeeded", recorded.texts()
    assert ("True", 2, "stdout") in recorded.lines


def test_sh_step_stops_at_the_first_failing_command(executor, recorded):
    result = run(executor, "echo before\nfalse\necho after", shell="sh")
    assert (result.status, result.exit_code) == ("failed", 1)
    assert "before" in recorded.texts() and "after" not in recorded.texts()
    assert "##[error]Process completed with exit code 1." in recorded.texts("system")


def test_bash_pipefail_fails_the_step(executor):
    assert run(executor, "false | true").status == "failed"


def test_python_step_writes_outputs_and_uses_workflow_commands(executor, recorded):
    script = """
import os
with open(os.environ["DEVOPS_OUTPUT"], "a") as handle:
    handle.write("answer=42\\n")
print("::set-output name=version::1.2.3")
print("::set-metric name=lint.errors::0")
print("::set-gate-value name=coverage.branch::75.25")
print("::add-mask::p4ssw0rd-xyz")
print("leaking p4ssw0rd-xyz now")
"""
    result = run(executor, script, shell="Python")
    assert result.status == "succeeded", recorded.texts()
    assert result.outputs == {"answer": "42", "version": "1.2.3"}
    assert result.metrics == {"lint.errors": 0, "coverage.branch": 75.25}
    assert "leaking *** now" in recorded.texts("stdout")
    assert "::add-mask::***" in recorded.texts("stdout")
    assert not any("p4ssw0rd" in text for text in recorded.texts("stdout"))


def test_custom_shell_template(executor, recorded):
    result = run(executor, "print('custom', 6 * 7)", shell=f"{sys.executable} -u {{0}}")
    assert result.status == "succeeded"
    assert "custom 42" in recorded.texts("stdout")


def test_unknown_shell_fails_with_a_message(executor, recorded):
    result = run(executor, "echo hi", shell="fish-without-template")
    assert result.status == "failed" and result.exit_code is None
    assert any("unknown shell 'fish-without-template'" in text for text in recorded.texts("system"))


def test_environment_layers_and_runner_variables(executor, recorded):
    result = run(executor, """
echo "job=$JOB_LEVEL shared=$SHARED step=$STEP_LEVEL ci=$CI os=$RUNNER_OS name=$RUNNER_NAME"
test "$GITHUB_WORKSPACE" = "$DEVOPS_WORKSPACE" && test "$PWD" = "$DEVOPS_WORKSPACE"
test "$GITHUB_OUTPUT" = "$DEVOPS_OUTPUT" && test "$GITHUB_ENV" = "$DEVOPS_ENV"
test "$GITHUB_PATH" = "$DEVOPS_PATH"
test -f "$DEVOPS_METRICS" && test -d "$RUNNER_TEMP" && test -d "$RUNNER_TOOL_CACHE"
""", env={"SHARED": "from-step", "STEP_LEVEL": 7})
    assert result.status == "succeeded", recorded.texts()
    expected = f"job=job shared=from-step step=7 ci=true os={agent.runner_os()} name=test-runner"
    assert expected in recorded.texts()


def test_working_directory(executor, recorded):
    os.makedirs(os.path.join(executor.paths.workspace, "src"))
    assert run(executor, "pwd", working_directory="src").status == "succeeded"
    assert os.path.join(executor.paths.workspace, "src") in recorded.texts("stdout")
    missing = run(executor, "pwd", working_directory="nope")
    assert missing.status == "failed"
    assert any("working directory 'nope' does not exist" in text for text in recorded.texts("system"))


def test_malformed_output_file_fails_the_step(executor, recorded):
    result = run(executor, 'echo "notes<<EOF" >> "$GITHUB_OUTPUT"\necho "never closed" >> "$GITHUB_OUTPUT"')
    assert result.status == "failed"
    assert any("matching delimiter 'EOF' not found" in text for text in recorded.texts("system"))


def test_step_mask_values_are_masked(executor, recorded):
    result = run(executor, "echo token=tok-abcdef-123", mask=["tok-abcdef-123"])
    assert result.status == "succeeded"
    assert "token=***" in recorded.texts("stdout")


def test_scripts_and_command_files_are_removed_after_the_step(executor):
    run(executor, "echo x >> \"$GITHUB_OUTPUT\"")
    assert os.listdir(executor.paths.temp) == [] and os.listdir(executor.paths.files) == []


@pytest.mark.parametrize("relative", ["../escape", "/abs/path", "", "_agent/jobs"])
def test_workspace_must_stay_inside_the_work_directory(tmp_path, relative):
    with pytest.raises(ValueError):
        agent.workspace_path(str(tmp_path), relative)
