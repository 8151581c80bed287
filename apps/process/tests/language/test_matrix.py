"""Matrix expansion: a table of matrices and the combinations GitHub Actions would run."""

from __future__ import annotations

import pytest

from apps.process.language import MatrixError, compile_pipeline, expand_deferred_job, expand_matrix

EXPANSIONS = [
    ("one axis", {"py": ["3.11", "3.12"]}, [{"py": "3.11"}, {"py": "3.12"}]),
    (
        "first axis varies slowest",
        {"os": ["a", "b"], "py": [1, 2]},
        [{"os": "a", "py": 1}, {"os": "a", "py": 2}, {"os": "b", "py": 1}, {"os": "b", "py": 2}],
    ),
    (
        "exclude one combination",
        {"os": ["a", "b"], "py": [1, 2], "exclude": [{"os": "b", "py": 2}]},
        [{"os": "a", "py": 1}, {"os": "a", "py": 2}, {"os": "b", "py": 1}],
    ),
    (
        "partial exclude removes every match",
        {"os": ["a", "b"], "py": [1, 2], "exclude": [{"os": "a"}]},
        [{"os": "b", "py": 1}, {"os": "b", "py": 2}],
    ),
    (
        "include extends every combination it matches",
        {"os": ["a", "b"], "include": [{"extra": True}]},
        [{"os": "a", "extra": True}, {"os": "b", "extra": True}],
    ),
    (
        "include never overwrites an original value",
        {"os": ["a"], "py": [1], "include": [{"os": "a", "py": 2}]},
        [{"os": "a", "py": 1}, {"os": "a", "py": 2}],
    ),
    (
        "a later include overwrites an added value",
        {"os": ["a", "b"], "include": [{"c": 1}, {"os": "b", "c": 2}]},
        [{"os": "a", "c": 1}, {"os": "b", "c": 2}],
    ),
    (
        "an include that matches nothing adds a combination",
        {"py": [1], "include": [{"py": 3, "exp": True}]},
        [{"py": 1}, {"py": 3, "exp": True}],
    ),
    (
        "added combinations are not extended by later includes",
        {"fruit": ["apple"], "include": [{"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}]},
        [{"fruit": "apple"}, {"fruit": "banana"}, {"fruit": "banana", "animal": "cat"}],
    ),
    ("include only", {"include": [{"a": 1}, {"a": 2}]}, [{"a": 1}, {"a": 2}]),
    (
        "exclude applies before include",
        {"os": ["a"], "exclude": [{"os": "a"}], "include": [{"os": "a", "x": 1}]},
        [{"os": "a", "x": 1}],
    ),
    (
        "objects match partially in exclude",
        {"node": [{"v": 18, "lts": True}, {"v": 21}], "exclude": [{"node": {"v": 18}}]},
        [{"node": {"v": 21}}],
    ),
    ("booleans are not numbers", {"flag": [True, 1], "exclude": [{"flag": 1}]}, [{"flag": True}]),
    ("256 combinations are allowed", {"a": list(range(16)), "b": list(range(16))}, 256),
    (
        "a large product may be excluded down to the limit",
        {"a": list(range(17)), "b": list(range(16)), "exclude": [{"a": 16}]},
        256,
    ),
]

ERRORS = [
    ("257 combinations", {"a": list(range(257))}, "matrix has 257 combinations; the limit is 256"),
    (
        "include pushes past the limit",
        {"a": list(range(256)), "include": [{"a": "new"}]},
        "matrix has 257 combinations; the limit is 256",
    ),
    (
        "a huge cross product is refused before it is built",
        {name: list(range(10)) for name in "abcdefgh"},
        "matrix has 100000000 combinations; the limit is 256",
    ),
    ("an empty axis", {"os": []}, "matrix axis 'os' is empty"),
    ("an axis that is not a list", {"os": "linux"}, "matrix axis 'os' must be a list, got str"),
    (
        "exclude of an unknown axis",
        {"os": ["a"], "exclude": [{"arch": "x"}]},
        "exclude names 'arch', which is not a matrix axis",
    ),
    ("everything excluded", {"os": ["a"], "exclude": [{"os": "a"}]}, "matrix has no combinations"),
    (
        "include that is not a list of mappings",
        {"os": ["a"], "include": ["x"]},
        "matrix include must be a list of mappings",
    ),
    ("not a mapping", ["a"], "a matrix must be a mapping, got list"),
]


@pytest.mark.parametrize(
    ("matrix", "expected"), [case[1:] for case in EXPANSIONS], ids=[case[0] for case in EXPANSIONS]
)
def test_expand_matrix(matrix, expected):
    combinations = expand_matrix(matrix)
    if isinstance(expected, int):
        assert len(combinations) == expected
        assert len({tuple(sorted(combo.items())) for combo in combinations}) == expected
    else:
        assert combinations == expected


@pytest.mark.parametrize(
    ("matrix", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS]
)
def test_expand_matrix_refuses(matrix, message):
    with pytest.raises(MatrixError) as raised:
        expand_matrix(matrix)
    assert str(raised.value) == message


def test_expand_matrix_does_not_change_its_argument():
    matrix = {"os": ["a"], "include": [{"x": 1}]}
    expand_matrix(matrix)
    assert matrix == {"os": ["a"], "include": [{"x": 1}]}


DEFERRED = """
jobs:
  setup:
    runs-on: [linux]
    outputs: {m: "${{ steps.s.outputs.m }}"}
    steps: [{id: s, run: echo}]
  test:
    name: test ${{ matrix.py }}
    needs: setup
    runs-on: ["${{ matrix.os }}", fast]
    strategy:
      matrix:
        py: ${{ fromJSON(needs.setup.outputs.m) }}
        os: [linux]
        include: [{py: "3.13", os: mac}]
    steps: [{run: echo}]
  plain:
    needs: setup
    strategy:
      matrix: ${{ fromJSON(needs.setup.outputs.m) }}
    steps: [{run: echo}]
"""


def deferred_jobs():
    plan = compile_pipeline(DEFERRED)
    return {job["id"]: job for job in plan["stages"][0]["jobs"]}


def test_a_matrix_reading_needs_is_one_deferred_entry():
    jobs = deferred_jobs()
    test = jobs["test"]
    assert (test["key"], test["matrix"]) == ("test", None)
    assert test["matrix_expression"] == {
        "py": "${{ fromJSON(needs.setup.outputs.m) }}",
        "os": ["linux"],
        "include": [{"py": "3.13", "os": "mac"}],
    }
    assert test["name"] == "test ${{ matrix.py }}"
    assert test["runs_on"]["labels"] == ["${{ matrix.os }}", "fast"]
    assert jobs["plain"]["matrix_expression"] == "${{ fromJSON(needs.setup.outputs.m) }}"


def test_the_engine_expands_a_deferred_job_with_the_outputs_it_needs():
    contexts = {"needs": {"setup": {"outputs": {"m": '["3.11", "3.12"]'}}}}
    entries = expand_deferred_job(deferred_jobs()["test"], contexts)
    assert [(entry["key"], entry["name"], entry["runs_on"]["labels"]) for entry in entries] == [
        ("test.0", "test 3.11", ["linux", "fast"]),
        ("test.1", "test 3.12", ["linux", "fast"]),
        ("test.2", "test 3.13", ["mac", "fast"]),
    ]
    assert all(entry["matrix_expression"] is None for entry in entries)


def test_a_deferred_job_without_a_name_gets_its_values_appended():
    contexts = {"needs": {"setup": {"outputs": {"m": '{"py": [1, 2]}'}}}}
    entries = expand_deferred_job(deferred_jobs()["plain"], contexts)
    assert [(entry["key"], entry["name"], entry["matrix"]) for entry in entries] == [
        ("plain.0", "plain (1)", {"py": 1}),
        ("plain.1", "plain (2)", {"py": 2}),
    ]


def test_a_deferred_matrix_that_turns_out_too_large_raises():
    contexts = {"needs": {"setup": {"outputs": {"m": f'{{"py": {list(range(300))}}}'}}}}
    with pytest.raises(MatrixError):
        expand_deferred_job(deferred_jobs()["plain"], contexts)


def test_a_matrix_reading_inputs_is_expanded_at_compile_time():
    text = """
on: {manual: {inputs: {oses: {default: '["a", "b"]'}}}}
jobs:
  t:
    runs-on: ${{ matrix.os }}
    strategy: {matrix: {os: "${{ fromJSON(inputs.oses) }}"}}
    steps: [{run: echo}]
"""
    jobs = compile_pipeline(text, inputs={"oses": '["x", "y", "z"]'})["stages"][0]["jobs"]
    assert [(job["key"], job["name"], job["runs_on"]["labels"]) for job in jobs] == [
        ("t.0", "t (x)", ["x"]),
        ("t.1", "t (y)", ["y"]),
        ("t.2", "t (z)", ["z"]),
    ]
