"""Property tests: `validate` answers every input with a list of problems and never raises;
`compile_pipeline` raises nothing but PipelineError, and what it returns is JSON."""

from __future__ import annotations

import json

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.process.language import PipelineError, Problem, compile_pipeline, validate

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "name",
    "on",
    "jobs",
    "stages",
    "finally",
    "steps",
    "run",
    "needs",
    "depend-on",
    "if",
    "runs-on",
    "strategy",
    "matrix",
    "include",
    "exclude",
    "env",
    "variables",
    "push",
    "branches",
    "paths",
    "schedule",
    "cron",
    "manual",
    "inputs",
    "type",
    "options",
    "default",
    "checkout",
    "uses",
    "with",
    "shell",
    "retry",
    "timeout-minutes",
    "continue-on-error",
    "outputs",
    "concurrency",
    "group",
    "check-in",
    "check-out",
    "reviews",
    "reviewers",
    "gates",
    "rule",
    "notices",
    "defaults",
    "id",
    "fast-kill",
    "a",
    "b",
    "build",
]
STRINGS = st.one_of(
    st.text(max_size=20),
    st.sampled_from(
        [
            "${{ matrix.os }}",
            "${{ needs.a.outputs.x }}",
            "${{ fromJSON(inputs.m) }}",
            "${{",
            "}}",
            "ALWAYS",
            "${{ success() && github.ref == 'main' }}",
            "actions/checkout@v4",
            "self",
            "bash",
            "{0}",
            "0 3 * * *",
            "${{ foo( }}",
            "choice",
            "boolean",
            "[",
            "*",
            "**",
            "!x",
            "a",
        ]
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10, 300), st.floats(allow_nan=False), STRINGS)


def structures(keys):
    return st.recursive(
        SCALARS,
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=5)
        ),
        max_leaves=40,
    )


PIPELINE_LIKE = st.dictionaries(st.sampled_from(KEYS), structures(st.sampled_from(KEYS)), max_size=6)
ANY_STRUCTURE = structures(st.text(max_size=8))


def assert_problems(problems):
    assert isinstance(problems, list)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.line >= 0 and problem.column >= 0 and problem.message


def assert_compiles_or_raises_pipeline_error(text):
    try:
        plan = compile_pipeline(text)
    except PipelineError as error:
        assert error.problems
    else:
        assert json.loads(json.dumps(plan)) == plan


@SETTINGS
@given(st.text(max_size=400))
def test_validate_never_raises_on_text(text):
    assert_problems(validate(text))
    assert_compiles_or_raises_pipeline_error(text)


@SETTINGS
@given(st.binary(max_size=400))
def test_validate_never_raises_on_bytes(data):
    assert_problems(validate(data))
    assert_compiles_or_raises_pipeline_error(data)


@SETTINGS
@given(ANY_STRUCTURE)
def test_validate_never_raises_on_any_yaml_structure(structure):
    text = yaml.safe_dump(structure)
    assert_problems(validate(text))
    assert_compiles_or_raises_pipeline_error(text)


@SETTINGS
@given(PIPELINE_LIKE)
def test_validate_never_raises_on_pipeline_shaped_structures(structure):
    text = yaml.safe_dump(structure)
    assert_problems(validate(text))
    assert_compiles_or_raises_pipeline_error(text)


NAMES = st.sampled_from(["a", "b", "build", "c", "1x"])
STEP = st.fixed_dictionaries(
    {"run": STRINGS},
    optional={
        "id": st.sampled_from(["s1", "s2", "1x"]),
        "if": STRINGS,
        "shell": st.sampled_from(["bash", "sh", "Python", "zsh", "perl {0}"]),
        "retry": st.integers(-1, 7),
        "env": st.dictionaries(st.sampled_from(["A", "B"]), SCALARS, max_size=2),
        "timeout-minutes": st.one_of(st.integers(-1, 30), STRINGS),
        "continue-on-error": st.one_of(st.booleans(), STRINGS),
    },
)
AXIS = st.one_of(st.lists(SCALARS, max_size=4), STRINGS)
MATRIX = st.dictionaries(st.sampled_from(["os", "py"]), AXIS, max_size=2).flatmap(
    lambda axes: st.fixed_dictionaries(
        {},
        optional={
            "include": st.lists(
                st.dictionaries(st.sampled_from(["os", "py", "x"]), SCALARS, max_size=2), max_size=3
            ),
            "exclude": st.lists(
                st.dictionaries(st.sampled_from(["os", "py"]), SCALARS, max_size=2), max_size=2
            ),
        },
    ).map(lambda lists: {**axes, **lists})
)
JOB = st.fixed_dictionaries(
    {
        "steps": st.lists(
            st.one_of(STEP, st.just({"checkout": "self"}), st.just({"uses": "actions/checkout@v4"})),
            min_size=1,
            max_size=3,
        )
    },
    optional={
        "needs": st.lists(NAMES, max_size=3),
        "if": STRINGS,
        "name": STRINGS,
        "runs-on": st.one_of(STRINGS, st.lists(STRINGS, max_size=2)),
        "strategy": st.fixed_dictionaries({"matrix": st.one_of(MATRIX, STRINGS)}),
    },
)


@SETTINGS
@given(st.dictionaries(NAMES, JOB, min_size=1, max_size=4))
def test_jobs_with_random_fields_never_crash_the_compiler(jobs):
    text = yaml.safe_dump({"on": "push", "jobs": jobs})
    assert_problems(validate(text))
    assert_compiles_or_raises_pipeline_error(text)


@SETTINGS
@given(st.text(alphabet="[]{}:,-&*!|>'\"#\n ab?", max_size=200))
def test_yaml_punctuation_soup_never_raises(text):
    assert_problems(validate(text))
    assert_compiles_or_raises_pipeline_error(text)
