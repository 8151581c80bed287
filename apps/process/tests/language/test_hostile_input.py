"""Hostile input: each is answered with one helpful problem, quickly, and never with an exception.
Times are CPU seconds of this process, so a busy machine does not fail the tests."""

from __future__ import annotations

import random
import time

import pytest

from apps.process.language import PipelineError, compile_pipeline, validate

BOMB = (
    "\n".join(
        [f"a0: &a0 [{', '.join(['lol'] * 9)}]"]
        + [f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * 9)}]" for level in range(1, 10)]
    )
    + "\njobs: {}\n"
)


def timed_validate(text):
    started = time.process_time()
    problems = validate(text)
    return problems, time.process_time() - started


def only_message(problems) -> str:
    assert len(problems) == 1, problems
    return problems[0].message


def test_alias_bomb_is_refused_before_it_expands():
    problems, seconds = timed_validate(BOMB)
    assert only_message(problems) == "too many nodes (alias expansion?)"
    assert seconds < 1


def test_recursive_alias_is_refused():
    problems, seconds = timed_validate("jobs: &loop\n  a: *loop\n")
    assert "recursive alias" in only_message(problems)
    assert (problems[0].line, problems[0].column) == (2, 6)
    assert seconds < 1


def test_recursive_merge_key_is_refused():
    problems, _ = timed_validate("x: &m {<<: *m}\n")
    assert "recursive alias" in only_message(problems)


@pytest.mark.parametrize("text", ["a: " + "x" * (10 << 20), b"a: " + b"x" * (10 << 20)], ids=["str", "bytes"])
def test_ten_megabytes_are_refused_without_parsing(text):
    problems, seconds = timed_validate(text)
    assert only_message(problems) == "pipeline is larger than 1 MiB"
    assert seconds < 1


def test_just_over_one_mebibyte_of_multibyte_text_is_refused():
    text = "name: " + "é" * (600 * 1024)
    assert len(text) < 1 << 20 < len(text.encode())
    assert only_message(validate(text)) == "pipeline is larger than 1 MiB"


def test_binary_garbage_is_refused():
    garbage = bytes(random.Random(7).randrange(256) for _ in range(64 * 1024))
    problems, seconds = timed_validate(garbage)
    message = only_message(problems)
    assert "not valid UTF-8" in message or "is not allowed in a pipeline" in message
    assert seconds < 1


def test_invalid_utf8_names_the_byte_and_its_place():
    problems = validate(b"name: ok\njobs:\n  a: \xff\xfe\n")
    assert only_message(problems) == "pipeline is not valid UTF-8 (byte 0xff)"
    assert (problems[0].line, problems[0].column) == (3, 6)


def test_nul_bytes_are_refused_at_their_place():
    problems = validate("name: a\njobs:\x00\n")
    assert only_message(problems) == "a NUL byte is not allowed in a pipeline (binary file?)"
    assert (problems[0].line, problems[0].column) == (2, 6)


@pytest.mark.parametrize(
    "text",
    [
        "[" * 100_000,
        "a: " + "{a: " * 5000 + "1" + "}" * 5000,
        "".join("  " * depth + "a:\n" for depth in range(300)),
    ],
    ids=["flow lists", "flow mappings", "block mappings"],
)
def test_deep_nesting_is_refused(text):
    problems, seconds = timed_validate(text)
    assert only_message(problems) == "nesting is deeper than 64 levels"
    assert seconds < 1


def test_nesting_through_aliases_is_refused():
    levels = ["l0: &l0 [x]"] + [f"l{n}: &l{n} [*l{n - 1}]" for n in range(1, 80)]
    problems = validate("\n".join(levels) + "\n")
    assert "nesting is deeper than 64 levels (through an alias)" in only_message(problems)


def test_a_big_but_legitimate_file_is_read():
    jobs = "".join(f"  job{n}:\n    runs-on: [linux]\n    steps: [{{run: echo {n}}}]\n" for n in range(2000))
    problems, seconds = timed_validate("jobs:\n" + jobs)
    assert problems == []
    assert seconds < 5


def test_too_many_plain_nodes_are_refused_with_the_limit():
    text = "jobs:\n  a:\n    steps: [{run: x}]\n    env:\n" + "".join(
        f"      K{n}: {n}\n" for n in range(51_000)
    )
    problems, seconds = timed_validate(text)
    assert only_message(problems) == "too many nodes (the limit is 100,000)"
    assert seconds < 2


@pytest.mark.parametrize("text", [BOMB, "[" * 100_000, b"\xff" * 100, "a: " + "x" * (2 << 20)])
def test_compile_raises_pipeline_error_only(text):
    with pytest.raises(PipelineError) as raised:
        compile_pipeline(text)
    assert len(raised.value.problems) == 1
