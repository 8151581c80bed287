"""The contexts a job's expressions see and the environment its steps get."""

from __future__ import annotations

from dataclasses import replace

import pytest

from apps.process.engine import (
    PlanIndex,
    StepState,
    initial_build_state,
    job_contexts,
    job_outputs,
    step_environment,
)
from apps.process.engine.contexts import exported_env
from apps.process.language import TriggerEvent, static_contexts

from .plans import plan_of
from .simulate import PUSH_TO_MAIN, RUNNER, Script, simulate

TWO_STAGES = """
on: push
variables: {TARGET: staging}
env: {GLOBAL: "g", TWICE: "${{ env.GLOBAL }}${{ env.GLOBAL }}"}
stages:
  - name: prepare
    jobs:
      meta:
        runs-on: x
        outputs: {artifact: "${{ steps.info.outputs.artifact }}"}
        steps: [{id: info, run: info}]
      test:
        runs-on: x
        strategy: {fail-fast: false, max-parallel: 3, matrix: {n: [1, 2]}}
        outputs: {seen: "${{ matrix.n }}"}
        steps: [{run: 'true'}]
      report:
        runs-on: x
        needs: [meta, test]
        if: always()
        env: {JOB_ONLY: "${{ needs.meta.outputs.artifact }}", BAD: "${{ fromJSON('nope') }}"}
        steps: [{id: a, run: a, continue-on-error: true}, {id: b, run: b}, {run: c}]
  - name: ship
    jobs:
      deliver: {runs-on: x, steps: [{run: deliver}]}
"""


@pytest.fixture(scope="module")
def sim():
    scripts = {
        "meta": Script(outputs={0: {"artifact": "app.tgz", "ignored": "x"}}),
        "test.1": Script(fail=[0]),
    }
    return simulate(plan_of(TWO_STAGES), scripts)


def contexts_of(sim, key, steps=(), secrets=None):
    job = sim.state.jobs[key]
    return job_contexts(
        plan=sim.plan,
        build=sim.state,
        job=replace(job, cancel_requested=False),
        steps=list(steps),
        runner=RUNNER,
        secrets=secrets or {},
    )


def test_ci_and_its_github_twin(sim):
    contexts = contexts_of(sim, "deliver")
    ci, github = contexts["ci"], contexts["github"]
    assert ci["branch"] == "main" and ci["build_number"] == 12 and ci["workspace"] == RUNNER["workspace"]
    assert github["event_name"] == "push"
    assert github["ref"] == "refs/heads/main" and github["ref_name"] == "main"
    assert github["run_number"] == 12 and github["run_id"] == "b-1"
    assert (
        github["job"] == "deliver"
        and github["sha"] == ci["sha"]
        and github["workspace"] == RUNNER["workspace"]
    )
    assert contexts["runner"]["os"] == "Linux"
    assert contexts["vars"] == contexts["variables"] == {"TARGET": "staging"}


@pytest.mark.parametrize(
    "event, ref, event_name, ref_name",
    [
        ("manual", "refs/heads/dev", "workflow_dispatch", "dev"),
        ("tag", "refs/tags/v1.2", "push", "v1.2"),
        ("schedule", "refs/heads/main", "schedule", "main"),
    ],
)
def test_the_trigger_facts_reach_the_job_and_its_steps(event, ref, event_name, ref_name):
    trigger = TriggerEvent(event=event, ref=ref, sha="abc", actor="bob")
    static = static_contexts(
        trigger=trigger, inputs={"x": 1}, variables={}, pipeline_name="q", build_number=3
    )
    plan = plan_of("on: push\njobs: {a: {runs-on: x, steps: [{run: 'true'}]}}\n")
    build = initial_build_state(plan, static)
    contexts = job_contexts(plan=plan, build=build, job=build.jobs["a"], steps=[], runner={}, secrets={})
    assert contexts["github"]["event_name"] == event_name
    assert contexts["github"]["ref_name"] == ref_name
    assert contexts["github"]["job"] == "a"
    assert contexts["inputs"] == {"x": 1}
    plan_job = PlanIndex(plan).plan_job(build.jobs["a"])
    env = step_environment(
        plan=plan, plan_job=plan_job, plan_step=plan_job["steps"][0], contexts=contexts, exported={}
    )
    assert (env["GITHUB_EVENT_NAME"], env["DEVOPS_EVENT"]) == (event_name, event)
    assert (env["GITHUB_REF_NAME"], env["GITHUB_RUN_NUMBER"], env["GITHUB_ACTOR"]) == (ref_name, "3", "bob")


def test_needs_merge_a_matrix_and_fail_if_one_combination_failed(sim):
    needs = contexts_of(sim, "report")["needs"]
    assert needs["meta"] == {"outputs": {"artifact": "app.tgz"}, "result": "success"}
    assert needs["test"]["result"] == "failure"
    assert needs["test"]["outputs"] == {"seen": "2"}
    assert set(needs) == {"meta", "test"}


def test_jobs_of_earlier_stages_with_their_step_outputs(sim):
    jobs = contexts_of(sim, "deliver")["jobs"]
    assert jobs["meta"]["result"] == "success"
    assert jobs["meta"]["outputs"] == {"artifact": "app.tgz"}
    assert jobs["meta"]["steps"]["info"]["outputs"] == {"artifact": "app.tgz", "ignored": "x"}
    assert jobs["test"]["result"] == "failure"
    assert "jobs" not in contexts_of(sim, "meta") or contexts_of(sim, "meta")["jobs"] == {}


def test_strategy_and_matrix(sim):
    contexts = contexts_of(sim, "test.1")
    assert contexts["matrix"] == {"n": 2}
    assert contexts["strategy"] == {"fail-fast": False, "max-parallel": 3, "job-index": 1, "job-total": 2}
    assert contexts_of(sim, "meta")["strategy"] == {
        "fail-fast": True,
        "max-parallel": 1,
        "job-index": 0,
        "job-total": 1,
    }


def test_steps_outcome_conclusion_and_job_status(sim):
    steps = [StepState(0, "failed", outputs={"k": "v"}), StepState(1, "failed"), StepState(2, "running")]
    contexts = contexts_of(sim, "report", steps)
    assert contexts["steps"] == {
        "a": {"outputs": {"k": "v"}, "outcome": "failure", "conclusion": "success"},
        "b": {"outputs": {}, "outcome": "failure", "conclusion": "failure"},
    }
    assert contexts["job"] == {"status": "failure"}
    assert contexts_of(sim, "report", steps[:1])["job"] == {"status": "success"}
    canceled = replace(sim.state.jobs["report"], cancel_requested=True)
    assert job_contexts(plan=sim.plan, build=sim.state, job=canceled, steps=steps, runner={}, secrets={})[
        "job"
    ] == {"status": "cancelled"}


def test_env_context_renders_in_order_and_keeps_a_bad_template_as_written(sim):
    env = contexts_of(sim, "report", [StepState(0, "succeeded", env={"GLOBAL": "exported"})])["env"]
    assert env["TWICE"] == "gg"
    assert env["JOB_ONLY"] == "app.tgz"
    assert env["BAD"] == "${{ fromJSON('nope') }}"
    assert env["GLOBAL"] == "exported"


def test_step_environment_has_the_facts_and_no_github_actions(sim):
    index = PlanIndex(sim.plan)
    plan_job = index.plan_job(sim.state.jobs["deliver"])
    contexts = contexts_of(sim, "deliver")
    env = step_environment(
        plan=sim.plan,
        plan_job=plan_job,
        plan_step=plan_job["steps"][0],
        contexts=contexts,
        exported={"FROM_STEP": "1"},
    )
    assert env["CI"] == "true" and "GITHUB_ACTIONS" not in env
    assert env["DEVOPS_PROJECT"] == "acme" and env["DEVOPS_PIPELINE"] == "demo"
    assert env["DEVOPS_BUILD_ID"] == env["GITHUB_RUN_ID"] == "b-1"
    assert env["DEVOPS_BUILD_NUMBER"] == env["GITHUB_RUN_NUMBER"] == "12"
    assert env["DEVOPS_JOB"] == env["GITHUB_JOB"] == "deliver"
    assert env["DEVOPS_SHA"] == env["GITHUB_SHA"] == "0123456789abcdef"
    assert env["DEVOPS_REF"] == env["GITHUB_REF"] == "refs/heads/main"
    assert env["DEVOPS_BRANCH"] == env["GITHUB_REF_NAME"] == "main"
    assert env["DEVOPS_EVENT"] == env["GITHUB_EVENT_NAME"] == "push"
    assert env["DEVOPS_ACTOR"] == env["GITHUB_ACTOR"] == "alice"
    assert env["DEVOPS_REPOSITORY"] == env["GITHUB_REPOSITORY"] == "acme/demo"
    assert env["GLOBAL"] == "g" and env["TWICE"] == "gg" and env["FROM_STEP"] == "1"


def test_job_outputs_render_at_the_end_and_a_bad_one_is_empty(sim):
    plan = plan_of("""
    on: push
    jobs:
      j:
        runs-on: x
        outputs: {v: "${{ steps.s.outputs.v }}-${{ matrix.none }}", bad: "${{ fromJSON('x') }}"}
        steps: [{id: s, run: s}]
    """)
    build = initial_build_state(plan, PUSH_TO_MAIN)
    contexts = job_contexts(
        plan=plan,
        build=build,
        job=build.jobs["j"],
        runner=RUNNER,
        secrets={},
        steps=[StepState(0, "succeeded", outputs={"v": "1"})],
    )
    assert job_outputs(PlanIndex(plan).plan_job(build.jobs["j"]), contexts) == {"v": "1-", "bad": ""}


def test_exported_env_only_from_finished_steps_later_wins():
    steps = [
        StepState(1, "succeeded", env={"A": "2"}),
        StepState(0, "failed", env={"A": "1", "B": "1"}),
        StepState(2, "running", env={"A": "3"}),
    ]
    assert exported_env(steps) == {"A": "2", "B": "1"}
