"""A table of invalid pipelines and the exact problem each must report ("LINE:COLUMN: message")."""

from __future__ import annotations

import pytest

from apps.process.language import PipelineError, Problem, compile_pipeline, format_problem, validate

STEP = "    runs-on: [linux]\n    steps: [{run: make}]\n"

CASES = [
    # --- the file itself
    ("empty file", "", "1:1: pipeline is empty"),
    ("only a comment", "# nothing\n", "1:1: pipeline is empty"),
    (
        "top level is a list",
        "- jobs\n",
        "1:1: a pipeline must be a mapping with keys such as 'on' and 'jobs', got a list",
    ),
    (
        "top level is a string",
        "hello\n",
        "1:1: a pipeline must be a mapping with keys such as 'on' and 'jobs', got a string",
    ),
    ("yaml syntax error", "jobs:\n  a: [1, 2\n", "3:1: YAML syntax error: while parsing a flow sequence"),
    ("tab indentation", "jobs:\n\ta: 1\n", "2:1: YAML syntax error"),
    (
        "two documents",
        "jobs: {}\n---\njobs: {}\n",
        "2:1: a pipeline is one YAML document (found a second '---')",
    ),
    (
        "duplicate key",
        "jobs:\n  a:\n" + STEP + "  a:\n" + STEP,
        "5:3: duplicate key 'a' (first defined at line 2)",
    ),
    ("undefined alias", "jobs: *nothing\n", "1:7: YAML syntax error: found undefined alias"),
    (
        "python tag",
        "name: !!python/object:os.system ls\njobs: {}\n",
        "1:7: unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'",
    ),
    ("NUL byte", "name: a\x00b\n", "1:8: a NUL byte is not allowed in a pipeline (binary file?)"),
    # --- keys
    (
        "unknown top-level key",
        "jobz: {}\njobs:\n  a:\n" + STEP,
        "1:1: unknown key 'jobz' in pipeline; did you mean 'jobs'?",
    ),
    (
        "unknown job key",
        "jobs:\n  a:\n    runs_on: [linux]\n    steps: [{run: make}]\n",
        "3:5: unknown key 'runs_on' in job; did you mean 'runs-on'?",
    ),
    (
        "unknown step key",
        "jobs:\n  a:\n    steps:\n      - run: make\n        timeout: 3\n",
        "5:9: unknown key 'timeout' in step; did you mean 'timeout-minutes'?",
    ),
    (
        "permissions rejected",
        "permissions: read-all\njobs:\n  a:\n" + STEP,
        "1:1: 'permissions' is not supported: builds get no GitHub token",
    ),
    (
        "services rejected",
        "jobs:\n  a:\n    services: {db: {image: postgres}}\n" + STEP,
        "3:5: 'services' is not supported: jobs run directly on the agent",
    ),
    (
        "alias and key together",
        "jobs:\n  a:\n    runs-on: [linux]\n    needs: []\n    depend-on: []\n    steps: [{run: x}]\n",
        "5:5: 'depend-on' repeats 'needs' (an alias); keep one",
    ),
    ("missing steps", "jobs:\n  a:\n    runs-on: [linux]\n", "3:5: job is missing required key 'steps'"),
    ("no jobs at all", "name: nothing\n", "1:1: pipeline has no jobs: add 'jobs:' (or 'stages:')"),
    (
        "stages and jobs",
        "stages:\n  - jobs:\n      a: {steps: [{run: x}]}\njobs:\n  b: {steps: [{run: x}]}\n",
        "5:3: use either 'stages' or top-level 'jobs', not both",
    ),
    # --- types
    ("steps not a list", "jobs:\n  a:\n    steps: make\n", "3:12: steps must be a list, got a string"),
    ("empty steps", "jobs:\n  a:\n    steps: []\n", "3:12: a job needs at least one step"),
    (
        "timeout is text",
        "jobs:\n  a:\n    timeout-minutes: soon\n    steps: [{run: x}]\n",
        "3:22: timeout-minutes must be a number of minutes, got a string",
    ),
    (
        "negative timeout",
        "jobs:\n  a:\n    timeout-minutes: -5\n    steps: [{run: x}]\n",
        "3:22: timeout-minutes must be more than 0 minutes, got -5",
    ),
    ("env is a list", "env: [A]\njobs:\n  a:\n" + STEP, "1:6: env must be a mapping, got a list"),
    (
        "fast-kill not boolean",
        "stages:\n  - fast-kill: maybe\n    jobs:\n      a:\n        steps: [{run: x}]\n",
        "2:16: fast-kill must be true or false, got a string",
    ),
    # --- steps
    (
        "step with neither run nor checkout",
        "jobs:\n  a:\n    steps:\n      - name: nothing\n",
        "4:9: a step needs 'run' or 'checkout' (or 'uses: actions/checkout@v4')",
    ),
    (
        "step with both",
        "jobs:\n  a:\n    steps:\n      - run: make\n        checkout: self\n",
        "4:14: a step has either 'run' or 'checkout'/'uses', not both",
    ),
    (
        "unsupported action",
        "jobs:\n  a:\n    steps:\n      - uses: actions/setup-node@v4\n",
        "4:15: 'uses: actions/setup-node@v4' is not available",
    ),
    (
        "checkout of something else",
        "jobs:\n  a:\n    steps:\n      - checkout: https://example.com/x.git\n",
        "4:19: 'checkout: https://example.com/x.git' is not supported; only 'checkout: self'",
    ),
    (
        "a job retry given as a number",
        "jobs:\n  a:\n    retry: 2\n" + STEP,
        "3:12: a job's retry runs it again when its agent is lost: write { max: 2, when: [agent-lost] }; "
        "to retry a failing command, give its step a 'retry'",
    ),
    (
        "a job retry for an unknown reason",
        "jobs:\n  a:\n    retry: {max: 1, when: [failure]}\n" + STEP,
        "3:28: retry.when must be one of agent-lost, got 'failure'",
    ),
    (
        "retry out of range",
        "jobs:\n  a:\n    steps:\n      - run: make\n        retry-times: 6\n",
        "5:22: retry-times must be between 0 and 5, got 6",
    ),
    (
        "unknown shell",
        "jobs:\n  a:\n    steps:\n      - run: make\n        shell: fish\n",
        "5:16: unknown shell 'fish'",
    ),
    (
        "duplicate step id",
        "jobs:\n  a:\n    steps:\n      - {id: s, run: a}\n      - {id: s, run: b}\n",
        "5:14: step id 's' is already used by step 0",
    ),
    ("bad step id", "jobs:\n  a:\n    steps:\n      - {id: 1st, run: a}\n", "4:14: step id '1st' must match"),
    (
        "with on a run step",
        "jobs:\n  a:\n    steps:\n      - run: make\n        with: {x: 1}\n",
        "5:15: 'with' gives inputs to a checkout step",
    ),
    (
        "unknown checkout input",
        "jobs:\n  a:\n    steps:\n      - uses: actions/checkout@v4\n        with: {fetch_depth: 0}\n",
        "5:16: unknown checkout input 'fetch_depth'; did you mean 'fetch-depth'?",
    ),
    # --- ids, needs, cycles
    ("bad job id", "jobs:\n  1build:\n" + STEP, "2:3: job id '1build' must match ^[A-Za-z_][A-Za-z0-9_-]*$"),
    ("job id with a dot", "jobs:\n  a.b:\n" + STEP, "2:3: job id 'a.b' must match"),
    (
        "job id reused in another stage",
        "stages:\n  - jobs:\n      a: {steps: [{run: x}]}\n  - jobs:\n      a: {steps: [{run: y}]}\n",
        "5:7: job id 'a' is already used in stage 'stage-1'; job ids are unique across the pipeline",
    ),
    (
        "job id reused in finally",
        "jobs:\n  a:\n" + STEP + "finally:\n  a:\n" + STEP,
        "6:3: job id 'a' is already used in stage 'default'",
    ),
    (
        "needs a missing job",
        "jobs:\n  a:\n    needs: [biuld]\n" + STEP + "  build:\n" + STEP,
        "3:13: needs 'biuld', which is not a job; did you mean 'build'?",
    ),
    (
        "needs another stage's job",
        "stages:\n  - name: one\n    jobs:\n      a: {steps: [{run: x}]}\n"
        "  - jobs:\n      b: {needs: a, steps: [{run: y}]}\n",
        "6:18: needs 'a', a job of stage 'one'; needs names jobs of the same stage",
    ),
    ("needs itself", "jobs:\n  a:\n    needs: a\n" + STEP, "3:12: job 'a' needs itself"),
    (
        "two-job cycle",
        "jobs:\n  a:\n    needs: b\n" + STEP + "  b:\n    needs: a\n" + STEP,
        "3:12: cycle: a -> b -> a",
    ),
    (
        "three-job cycle",
        "jobs:\n  a:\n    needs: c\n" + STEP + "  b:\n    needs: a\n" + STEP + "  c:\n    needs: b\n" + STEP,
        "3:12: cycle: a -> c -> b -> a",
    ),
    # --- matrix
    (
        "matrix too large",
        "jobs:\n  a:\n    strategy:\n      matrix:\n        x: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]\n"
        "        y: [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]\n    steps: [{run: x}]\n",
        "5:9: matrix has 272 combinations; the limit is 256",
    ),
    (
        "empty matrix axis",
        "jobs:\n  a:\n    strategy:\n      matrix:\n        os: []\n    steps: [{run: x}]\n",
        "5:13: matrix axis 'os' is empty",
    ),
    (
        "exclude names no axis",
        "jobs:\n  a:\n    strategy:\n      matrix:\n        os: [a]\n        exclude: [{arch: x}]\n"
        "    steps: [{run: x}]\n",
        "6:20: exclude names 'arch', which is not a matrix axis",
    ),
    (
        "matrix axis not a list",
        "jobs:\n  a:\n    strategy:\n      matrix: {os: linux}\n    steps: [{run: x}]\n",
        "4:20: matrix axis 'os' must be a list or an expression, got a string",
    ),
    (
        "everything excluded",
        "jobs:\n  a:\n    strategy:\n      matrix:\n        os: [a]\n      exclude: [{os: a}]\n"
        "    steps: [{run: x}]\n",
        "5:9: matrix has no combinations",
    ),
    # --- expressions
    (
        "unknown function",
        "jobs:\n  a:\n    steps:\n      - run: echo ${{ lower('A') }}\n",
        "4:23: unknown function 'lower()'",
    ),
    (
        "wrong arity",
        "jobs:\n  a:\n    steps:\n      - run: echo ${{ contains('a') }}\n",
        "4:23: contains() takes exactly 2 arguments (1 given)",
    ),
    (
        "unclosed template",
        "jobs:\n  a:\n    env: {X: '${{ github.sha'}\n" + STEP,
        "3:15: '${{' at position 0 is never closed",
    ),
    (
        "unknown context",
        "jobs:\n  a:\n    steps:\n      - run: echo ${{ gitlab.sha }}\n",
        "4:23: unknown context 'gitlab'; did you mean 'github'?",
    ),
    (
        "unknown context in a block",
        "jobs:\n  a:\n    steps:\n      - run: |\n          echo one\n          echo ${{ sceret.X }}\n",
        "6:20: unknown context 'sceret'; did you mean 'secrets'?",
    ),
    ("bad if", "jobs:\n  a:\n    if: success( ==\n" + STEP, "3:18: unexpected symbol '=='"),
    (
        "if with unknown context",
        "jobs:\n  a:\n    if: ${{ foo.bar == 1 }}\n" + STEP,
        "3:13: unknown context 'foo'",
    ),
    (
        "two expressions in one if",
        "jobs:\n  a:\n    if: ${{ a }} && ${{ b }}\n" + STEP,
        "3:9: a condition must be a single expression",
    ),
    (
        "runs-on with a runtime context",
        "jobs:\n  a:\n    runs-on: ${{ needs.x.outputs.os }}\n    steps: [{run: x}]\n",
        "3:14: runs-on can use only the ci, github, inputs, variables, vars and matrix contexts",
    ),
    (
        "runs-on of the wrong shape",
        "jobs:\n  a:\n    runs-on: {os: linux}\n    steps: [{run: x}]\n",
        "3:15: unknown key 'os' in runs-on",
    ),
    # --- triggers
    ("unknown trigger", "on: [push, release]\njobs:\n  a:\n" + STEP, "1:12: unknown trigger 'release'"),
    (
        "unknown trigger key",
        "on:\n  pushh: {}\njobs:\n  a:\n" + STEP,
        "2:3: unknown key 'pushh' in on; did you mean 'push'?",
    ),
    (
        "cron with six fields",
        "on:\n  schedule:\n    - cron: '0 0 3 * * 1'\njobs:\n  a:\n" + STEP,
        "3:13: cron '0 0 3 * * 1' must have 5 fields (minute hour day month weekday), it has 6",
    ),
    (
        "cron out of range",
        "on:\n  schedule:\n    - cron: '0 25 * * *'\njobs:\n  a:\n" + STEP,
        "3:13: invalid cron '0 25 * * *'",
    ),
    (
        "schedule without cron",
        "on:\n  schedule: [{branches: [main]}]\njobs:\n  a:\n" + STEP,
        "2:14: schedule is missing required key 'cron'",
    ),
    (
        "branches and branches-ignore",
        "on:\n  push:\n    branches: [a]\n    branches-ignore: [b]\njobs:\n  x:\n" + STEP,
        "4:22: use either 'branches' or 'branches-ignore', not both",
    ),
    (
        "bad bracket in a pattern",
        "on:\n  push:\n    branches: ['v[!0-9]']\njobs:\n  x:\n" + STEP,
        "3:16: '[...]' in pattern 'v[!0-9]' must list letters, digits or ranges",
    ),
    (
        "unknown pull request type",
        "on:\n  pull_request:\n    types: [openned]\njobs:\n  x:\n" + STEP,
        "3:13: unknown pull request type 'openned'; did you mean 'opened'?",
    ),
    # --- inputs
    (
        "unknown input type",
        "on:\n  manual:\n    inputs:\n      n: {type: integer}\njobs:\n  x:\n" + STEP,
        "4:17: unknown input type 'integer'",
    ),
    (
        "choice without options",
        "on:\n  manual:\n    inputs:\n      n: {type: choice}\njobs:\n  x:\n" + STEP,
        "4:10: a choice input needs a non-empty list of options",
    ),
    (
        "choice default not an option",
        "on:\n  manual:\n    inputs:\n      n: {type: choice, options: [a, b], default: c}\n"
        "jobs:\n  x:\n" + STEP,
        "4:51: default must be one of [a, b], got 'c'",
    ),
    (
        "boolean default not a boolean",
        "on:\n  manual:\n    inputs:\n      n: {type: boolean, default: maybe}\njobs:\n  x:\n" + STEP,
        "4:35: default must be true or false, got 'maybe'",
    ),
    # --- stages, checks, concurrency, notices
    ("stage without jobs", "stages:\n  - name: empty\n", "2:5: stage is missing required key 'jobs'"),
    (
        "gate rule malformed",
        "stages:\n  - jobs:\n      a: {steps: [{run: x}]}\n    check-out:\n      gates:\n"
        "        - name: cov\n          rule: coverage is high\n",
        "7:17: gate rule 'coverage is high' must read '<metric> <op> <number>'",
    ),
    (
        "reviews without reviewers",
        "stages:\n  - jobs:\n      a: {steps: [{run: x}]}\n    check-in:\n      reviews: {}\n",
        "5:16: reviews is missing required key 'reviewers'",
    ),
    (
        "concurrency without group",
        "concurrency: {cancel-in-progress: true}\njobs:\n  a:\n" + STEP,
        "1:14: concurrency is missing required key 'group'",
    ),
    (
        "notice of an unknown type",
        "notices:\n  - type: sms\njobs:\n  a:\n" + STEP,
        "2:11: unknown notice type 'sms'",
    ),
    ("unsupported version", "version: v2.0\njobs:\n  a:\n" + STEP, "1:10: unsupported version 'v2.0'"),
]


def lines_of(problems: list[Problem]) -> list[str]:
    return [format_problem(problem, "p.yml").removeprefix("p.yml:") for problem in problems]


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_invalid_pipeline_reports_the_problem_at_its_place(text, expected):
    problems = validate(text)
    assert any(expected in line for line in lines_of(problems)), lines_of(problems)


@pytest.mark.parametrize(("text", "expected"), [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_compile_raises_the_same_problems(text, expected):
    with pytest.raises(PipelineError) as raised:
        compile_pipeline(text, filename="p.yml")
    assert raised.value.problems == validate(text, filename="p.yml")
    assert f"p.yml:{expected}" in str(raised.value)


def test_the_table_is_large_enough():
    assert len(CASES) >= 40
    assert len({case[0] for case in CASES}) == len(CASES)


def test_every_problem_is_reported_at_once():
    text = (
        "nam: x\n"  # 1 unknown key
        "jobs:\n"
        "  a:\n"
        "    needs: [missing]\n"  # 4 missing job
        "    runs-on: [linux]\n"
        "    steps:\n"
        "      - run: echo ${{ nope() }}\n"  # 7 unknown function
        "        retry: 9\n"  # 8 retry out of range
        "      - name: idle\n"  # 9 neither run nor checkout
    )
    found = {(problem.line, problem.column) for problem in validate(text)}
    assert {(1, 1), (4, 13), (7, 23), (8, 16), (9, 9)} <= found


def test_problems_come_in_file_order_with_dotted_paths():
    text = "jobs:\n  b:\n    steps:\n      - run: x\n        shell: zsh\n  a:\n    stpes: []\n"
    problems = validate(text)
    assert problems == sorted(problems, key=lambda problem: (problem.line, problem.column))
    assert "jobs.b.steps[0].shell" in {problem.path for problem in problems}
    assert "jobs.a.stpes" in {problem.path for problem in problems}
