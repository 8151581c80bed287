"""Golden cases: every `cases/<name>.yaml` compiles to exactly `cases/<name>.plan.json`.

A case's first line may be `# compile: {json}` with `inputs`, `variables` and `trigger` for
`compile_pipeline`. Run with UPDATE_GOLDEN=1 to rewrite the plans, then read each one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from apps.process.language import PLAN_FORMAT_VERSION, TriggerEvent, compile_pipeline, validate

CASES = Path(__file__).parent / "cases"
EXAMPLES = Path(__file__).resolve().parents[4] / "docs" / "examples"
DEFAULT_TRIGGER = {"event": "push", "ref": "refs/heads/main", "sha": "0123abcd", "actor": "alice"}
CASE_NAMES = sorted(path.stem for path in CASES.glob("*.yaml"))


def compile_case(name: str) -> dict:
    text = (CASES / f"{name}.yaml").read_text()
    arguments = {}
    first_line = text.splitlines()[0]
    if first_line.startswith("# compile:"):
        arguments = json.loads(first_line.removeprefix("# compile:"))
    trigger = TriggerEvent(**{**DEFAULT_TRIGGER, **arguments.get("trigger", {})})
    return compile_pipeline(
        text,
        filename=f"{name}.yaml",
        trigger=trigger,
        inputs=arguments.get("inputs"),
        variables=arguments.get("variables"),
    )


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_compiles_to_its_golden_plan(name):
    plan = compile_case(name)
    golden = CASES / f"{name}.plan.json"
    rendered = json.dumps(plan, indent=2, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        golden.write_text(rendered)
    assert golden.exists(), f"no golden plan for {name}: run with UPDATE_GOLDEN=1 and read it"
    assert json.loads(rendered) == json.loads(golden.read_text())


def test_there_are_enough_cases_and_every_example_is_one():
    assert len(CASE_NAMES) >= 12
    examples = sorted(EXAMPLES.glob("*.yml"))
    assert len(examples) >= 6
    for example in examples:
        assert (CASES / f"{example.stem}.yaml").read_text() == example.read_text(), example.name


@pytest.mark.parametrize("name", CASE_NAMES)
def test_case_is_valid_and_its_plan_is_json(name):
    assert validate((CASES / f"{name}.yaml").read_text()) == []
    plan = compile_case(name)
    assert plan["format"] == PLAN_FORMAT_VERSION
    assert json.loads(json.dumps(plan)) == plan


@pytest.mark.parametrize("name", CASE_NAMES)
def test_job_keys_are_unique_and_needs_name_jobs_of_the_same_stage(name):
    plan = compile_case(name)
    keys = [job["key"] for stage in plan["stages"] for job in stage["jobs"]]
    assert len(keys) == len(set(keys))
    for stage in plan["stages"]:
        ids = {job["id"] for job in stage["jobs"]}
        for job in stage["jobs"]:
            assert set(job["needs"]) <= ids - {job["id"]}
