"""Run inputs: declared types, defaults applied, and values given to a build checked against them."""

from __future__ import annotations

import pytest

from apps.process.language import PipelineError, TriggerEvent, compile_pipeline, validate

PIPELINE = """on:
  manual:
    inputs:
      target: {type: choice, options: [dev, prod], required: true}
      dry_run: {type: boolean, default: true}
      replicas: {type: number, default: 2}
      note: {description: anything}
jobs:
  deploy:
    name: deploy ${{ inputs.target }} x${{ inputs.replicas }}
    steps: [{run: echo}]
"""


def compiled(inputs):
    return compile_pipeline(PIPELINE, inputs=inputs)


def test_defaults_fill_what_is_not_given():
    plan = compiled({"target": "prod"})
    assert plan["input_values"] == {"target": "prod", "dry_run": True, "replicas": 2, "note": ""}
    assert plan["stages"][0]["jobs"][0]["name"] == "deploy prod x2"


def test_given_text_is_coerced_to_the_declared_type():
    values = compiled({"target": "dev", "dry_run": "False", "replicas": "3", "note": 5})["input_values"]
    assert values == {"target": "dev", "dry_run": False, "replicas": 3, "note": "5"}


def test_a_build_without_given_inputs_is_not_held_to_required_ones():
    assert validate(PIPELINE) == []
    assert compile_pipeline(PIPELINE)["input_values"]["target"] == ""


@pytest.mark.parametrize("event", ["push", "pull_request", "tag", "schedule"])
def test_an_automatic_trigger_is_not_held_to_required_inputs(event):
    plan = compile_pipeline(PIPELINE, trigger=TriggerEvent(event=event), inputs={})
    assert plan["input_values"]["target"] == ""


def test_a_manual_run_is_held_to_required_inputs():
    with pytest.raises(PipelineError, match="input 'target' is required"):
        compile_pipeline(PIPELINE, trigger=TriggerEvent(event="manual"), inputs={})


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({}, "4:7: input 'target' is required"),
        ({"target": "staging"}, "4:7: input 'target' must be one of [dev, prod], got 'staging'"),
        ({"target": "dev", "dry_run": "maybe"}, "5:7: input 'dry_run' must be true or false, got 'maybe'"),
        ({"target": "dev", "replicas": "many"}, "6:7: input 'replicas' must be a number, got 'many'"),
        ({"target": "dev", "note": ["a"]}, "7:7: input 'note' must be a single value, got a list"),
        ({"target": "dev", "tagret": "x"}, "4:7: input 'tagret' is not declared in on.manual.inputs"),
    ],
)
def test_bad_given_inputs_are_problems_at_their_declaration(inputs, expected):
    with pytest.raises(PipelineError) as raised:
        compiled(inputs)
    assert f"pipeline.yml:{expected}" in str(raised.value)


def test_an_input_given_to_a_pipeline_without_inputs_is_a_problem():
    with pytest.raises(PipelineError) as raised:
        compile_pipeline("jobs:\n  a:\n    steps: [{run: x}]\n", inputs={"x": 1})
    assert "1:1: input 'x' is not declared in on.manual.inputs" in str(raised.value)


def test_variables_given_to_a_build_override_the_pipeline_and_env_wins_over_both():
    text = "variables: {A: yaml, B: yaml}\nenv: {B: env}\njobs:\n  a:\n    steps: [{run: x}]\n"
    plan = compile_pipeline(text, variables={"A": "given", "C": 3})
    assert plan["variables"] == {"A": "given", "B": "yaml", "C": "3"}
    assert plan["env"] == {"A": "given", "B": "env", "C": "3"}
