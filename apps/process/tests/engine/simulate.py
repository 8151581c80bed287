"""A reference simulator for the engine's tests: it drives `decide_build` and `decide_next_step`
over a Plan to the end, with scripted step results instead of agents and a simulated clock
instead of time. No database, no shell.

Each job runs for `duration` simulated seconds after it is claimed (every queued job is claimed
at once); its steps are decided when it ends, their results taken from the job's `Script`. A job
told to stop (`CancelJob`) ends at once: its first step to run is reported `canceled`, later
steps are decided as the agent would ask for them. After every decision the simulator checks the
engine's contract: the same state gives the same changes, applied changes reach a fixed point,
and no change moves something terminal or makes a transition the engine does not make.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

from apps.process.engine import (
    BuildState,
    BuildStatus,
    CancelJob,
    Change,
    ExpandMatrix,
    FailStep,
    JobDone,
    JobStatus,
    PlanIndex,
    RunStep,
    SkipStep,
    StageStatus,
    StepState,
    apply_changes,
    decide_build,
    decide_next_step,
    initial_build_state,
    job_contexts,
    job_outputs,
)
from apps.process.engine.states import (
    CANCELED,
    FAILED,
    QUEUED,
    RUNNING,
    SKIPPED,
    SUCCEEDED,
    TERMINAL,
    TIMED_OUT,
)
from apps.process.language import TriggerEvent, static_contexts

PUSH = TriggerEvent(event="push", ref="refs/heads/main", sha="0123456789abcdef", actor="alice")
PUSH_TO_MAIN = static_contexts(
    trigger=PUSH,
    inputs={},
    variables={},
    pipeline_name="demo",
    project="acme",
    build_id="b-1",
    build_number=12,
    repository="acme/demo",
)
RUNNER = {
    "os": "Linux",
    "arch": "X64",
    "name": "build-01",
    "workspace": "/work/acme/demo",
    "temp": "/tmp/runner",
    "tool_cache": "/opt/tool-cache",
}

JOB_TRANSITIONS = {
    "pending": {QUEUED, SKIPPED, CANCELED, FAILED},
    "queued": {CANCELED},
    "running": {TIMED_OUT},
}
STAGE_TRANSITIONS = {
    "pending": {RUNNING, SKIPPED, FAILED, CANCELED, "waiting_review", "blocked"},
    "waiting_review": {RUNNING, CANCELED, FAILED, "blocked"},
    "blocked": {RUNNING, SUCCEEDED, CANCELED, FAILED},
    "running": {*TERMINAL, "blocked"},
}
BUILD_TRANSITIONS = {
    "pending": {RUNNING},
    "running": {"waiting_review", "blocked"} | TERMINAL,
    "waiting_review": {RUNNING, "blocked"} | TERMINAL,
    "blocked": {RUNNING, "waiting_review"} | TERMINAL,
}


@dataclass
class Script:
    """What a job's steps do. `fail`: step indexes that always fail, or {index: how many first
    attempts fail}; `timeout`: steps that time out; `outputs`/`env`/`path`: what each step
    reports; `duration`: simulated seconds from claim to end."""

    fail: dict[int, int] | tuple[int, ...] | list[int] = ()
    timeout: tuple[int, ...] | list[int] = ()
    outputs: dict[int, dict] = field(default_factory=dict)
    env: dict[int, dict] = field(default_factory=dict)
    path: dict[int, list] = field(default_factory=dict)
    duration: float = 1.0

    def fails(self, index: int, attempt: int) -> bool:
        if isinstance(self.fail, dict):
            return attempt <= self.fail.get(index, 0)
        return index in self.fail


@dataclass
class Simulation:
    plan: dict
    state: BuildState
    now: float = 0.0
    rendered: dict[str, list[dict]] = field(default_factory=dict)
    steps: dict[str, dict[int, StepState]] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    peak_running: Counter = field(default_factory=Counter)
    claimed: list[str] = field(default_factory=list)
    history: list[tuple[BuildState, float, list[Change]]] = field(default_factory=list)

    def job_statuses(self) -> dict[str, str | list[str]]:
        """Statuses by job id, a list for a matrix job (the shape of examples/expected.json)."""
        index = PlanIndex(self.plan)
        result: dict[str, str | list[str]] = {}
        for job in self.state.jobs.values():
            if index.plan_job(job).get("matrix") is not None:
                result.setdefault(job.job_id, []).append(job.status)
            else:
                result[job.job_id] = job.status
        return result

    def status(self, key: str) -> str:
        return self.state.jobs[key].status

    def step_statuses(self, key: str) -> list[str]:
        return [self.steps[key][index].status for index in sorted(self.steps.get(key, {}))]

    def ran(self, key: str) -> list[int]:
        """Indexes of the steps sent to the agent, in order (a retried step appears again)."""
        return [step["index"] for step in self.rendered.get(key, [])]


def simulate(
    plan: dict,
    scripts: dict[str, Script] | None = None,
    *,
    static: dict | None = None,
    cancel_at: float | None = None,
    secrets: dict | None = None,
    limit: int = 10_000,
    **state_fields,
) -> Simulation:
    """Runs the build to its end (or until nothing can move, e.g. a stage waiting for review).
    `state_fields` set fields of the initial state (`metrics`, `rules`, ...)."""
    state = replace(initial_build_state(plan, static or PUSH_TO_MAIN), **state_fields)
    sim = Simulation(plan=plan, state=state)
    return run(sim, scripts, cancel_at=cancel_at, secrets=secrets, limit=limit)


def resume(
    sim: Simulation, scripts: dict[str, Script] | None = None, *, at: float | None = None, **state_fields
) -> Simulation:
    """Goes on with a stopped simulation after a person acted (a review, an override), at time `at`."""
    sim.state = replace(sim.state, **state_fields)
    sim.now = max(sim.now, at or sim.now)
    return run(sim, scripts)


def run(
    sim: Simulation,
    scripts: dict[str, Script] | None,
    *,
    cancel_at: float | None = None,
    secrets: dict | None = None,
    limit: int = 10_000,
) -> Simulation:
    scripts = scripts or {}
    index = PlanIndex(sim.plan)
    ends: dict[str, float] = {}
    for _ in range(limit):
        if cancel_at is not None and sim.now >= cancel_at and not sim.state.cancel_requested:
            sim.state = replace(sim.state, cancel_requested=True)
        decide(sim)
        claim_queued(sim, scripts, ends)
        for key in list(ends):
            job = sim.state.jobs[key]
            if job.status != RUNNING:
                del ends[key]
            elif job.cancel_requested:
                ends[key] = min(ends[key], sim.now)
        if not ends:
            return sim
        next_end = min(ends.values())
        deadlines = [
            job.started_at + 60 * (index.plan_job(job).get("timeout_minutes") or 360)
            for job in sim.state.jobs.values()
            if job.status == RUNNING
        ]
        upcoming = [next_end, *deadlines]
        if cancel_at is not None and cancel_at > sim.now:
            upcoming.append(cancel_at)
        sim.now = max(sim.now, min(upcoming))
        if next_end <= sim.now:
            key = min((end, number, key) for number, (key, end) in enumerate(ends.items()))[2]
            del ends[key]
            finish_job(
                sim,
                index,
                key,
                scripts.get(key) or scripts.get(sim.state.jobs[key].job_id) or Script(),
                secrets or {},
            )
    raise AssertionError("the simulation did not end")


def decide(sim: Simulation) -> None:
    """One `decide_build`, checked against the engine's contract, then applied."""
    changes = decide_build(sim.plan, sim.state, sim.now)
    assert decide_build(sim.plan, sim.state, sim.now) == changes, "deciding twice gave different changes"
    state = sim.state
    for change in changes:
        check_transition(state, change)
        state = apply_changes(state, [change])
    assert decide_build(sim.plan, state, sim.now) == [], "the applied changes are not a fixed point"
    if changes:
        sim.history.append((sim.state, sim.now, changes))
    sim.state = state
    sim.changes.extend(changes)


def check_transition(state: BuildState, change: Change) -> None:
    if isinstance(change, JobStatus):
        before = state.jobs[change.job_key].status
        assert change.status in JOB_TRANSITIONS.get(before, set()), f"{change.job_key}: {before} -> {change}"
    elif isinstance(change, CancelJob):
        job = state.jobs[change.job_key]
        assert job.status == RUNNING and not job.cancel_requested, f"{change} for {job}"
    elif isinstance(change, ExpandMatrix):
        assert state.jobs[change.job_key].status == "pending", change
    elif isinstance(change, StageStatus):
        before = state.stages[change.stage_index].status
        assert change.status in STAGE_TRANSITIONS.get(before, set()), (
            f"stage {change.stage_index}: {before} -> {change}"
        )
    elif isinstance(change, BuildStatus):
        assert change.status in BUILD_TRANSITIONS.get(state.status, set()), (
            f"build: {state.status} -> {change}"
        )


def claim_queued(sim: Simulation, scripts: dict[str, Script], ends: dict[str, float]) -> None:
    jobs = dict(sim.state.jobs)
    for key, job in jobs.items():
        if job.status == QUEUED:
            jobs[key] = replace(job, status=RUNNING, started_at=sim.now)
            script = scripts.get(key) or scripts.get(job.job_id) or Script()
            ends[key] = sim.now + script.duration
            sim.claimed.append(key)
    sim.state = replace(sim.state, jobs=jobs)
    running = Counter(job.job_id for job in jobs.values() if job.status == RUNNING)
    for job_id, count in running.items():
        sim.peak_running[job_id] = max(sim.peak_running[job_id], count)


def finish_job(sim: Simulation, index: PlanIndex, key: str, script: Script, secrets: dict) -> None:
    """Plays the agent for job `key`: asks for steps until done, then records the job's end."""
    job = sim.state.jobs[key]
    plan_job = index.plan_job(job)
    steps: dict[int, StepState] = {}
    killed = job.cancel_requested
    sim.rendered[key] = []
    for _ in range(100):
        contexts = job_contexts(
            plan=sim.plan,
            build=sim.state,
            job=job,
            steps=list(steps.values()),
            runner=RUNNER,
            secrets=secrets,
        )
        decision = decide_next_step(sim.plan, plan_job, list(steps.values()), contexts, job.cancel_requested)
        if isinstance(decision, JobDone):
            break
        if isinstance(decision, SkipStep):
            steps[decision.index] = StepState(decision.index, SKIPPED, reason=decision.reason)
        elif isinstance(decision, FailStep):
            steps[decision.index] = StepState(
                decision.index, FAILED, decision.attempt, reason=decision.reason
            )
        elif isinstance(decision, RunStep):
            sim.rendered[key].append(decision.rendered)
            steps[decision.index] = run_step(script, decision, killed)
            killed = False
    else:
        raise AssertionError(f"{key}: the steps never ended")
    contexts = job_contexts(
        plan=sim.plan, build=sim.state, job=job, steps=list(steps.values()), runner=RUNNER, secrets=secrets
    )
    step_ids = {plan_step["index"]: plan_step.get("id") for plan_step in plan_job.get("steps", [])}
    finished = replace(
        job,
        status=decision.status,
        reason=decision.reason,
        outputs=job_outputs(plan_job, contexts),
        step_outputs={step_ids[i]: dict(state.outputs) for i, state in steps.items() if step_ids.get(i)},
    )
    sim.steps[key] = steps
    sim.state = replace(sim.state, jobs={**sim.state.jobs, key: finished})


def run_step(script: Script, decision: RunStep, killed: bool) -> StepState:
    index, attempt = decision.index, decision.attempt
    if killed:
        status = CANCELED
    elif index in script.timeout:
        status = TIMED_OUT
    elif script.fails(index, attempt):
        status = FAILED
    else:
        status = SUCCEEDED
    return StepState(
        index,
        status,
        attempt,
        outputs=dict(script.outputs.get(index, {})),
        env=dict(script.env.get(index, {})),
        path=tuple(script.path.get(index, ())),
        exit_code={SUCCEEDED: 0, FAILED: 1}.get(status),
    )
