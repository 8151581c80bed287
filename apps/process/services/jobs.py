"""The jobs agents run: what a claimed job looks like, its steps one by one, its logs, its end.

These are the process side of the agent protocol (docs/agent-protocol.md); the views in
`apps.dispatch.api` only authenticate the agent and call them.
"""

from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.errors import NotFound
from apps.environment.selectors import agent_job_environment
from apps.log.services import log_lines_append
from apps.process import engine
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.models import JobRun, StepRun
from apps.process.services.engine import job_state, load_state, step_state
from apps.process.services.events import emit_build_advance
from apps.process.services.plan_cache import build_with_plan

STEP_STATUSES = frozenset({Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CANCELED})

# Callables (build) -> {name: value} that supply a build's secrets; the ticket app and
# `pipeline run --secret` register theirs. Secrets are resolved per request, never stored.
SECRET_PROVIDERS: list[Callable] = []


def build_secrets(build) -> dict:
    secrets: dict = {}
    for provider in SECRET_PROVIDERS:
        secrets.update(provider(build) or {})
    return secrets


def job_for_agent(*, agent, job_id, lock: bool = False) -> JobRun:
    jobs = JobRun.objects.select_related("build__pipeline__project").defer("build__plan")
    if lock:
        jobs = jobs.select_for_update(of=("self",))
    job = jobs.filter(id=int(job_id) if str(job_id).isdigit() else -1, agent=agent).first()
    if job is None:
        raise NotFound("no such job for this agent")
    build_with_plan(job.build)
    return job


def workspace_path(job: JobRun) -> str:
    build = job.build
    return f"{build.pipeline.project.slug}/{build.pipeline.slug}/{job.key}"


def checkout_facts(job: JobRun) -> dict | None:
    pipeline = job.build.pipeline
    url = job.build.trigger.get("repository") or getattr(pipeline, "repository_url", "")
    if not url:
        return None
    trigger = job.build.trigger
    return {
        "url": url,
        "ref": trigger.get("ref"),
        "sha": trigger.get("sha"),
        "username": None,
        "password": None,
        "ssh_key": None,
    }


def with_repository(job: JobRun, rendered: dict) -> dict:
    """A checkout step learns the URL and credentials of the pipeline's repository."""
    facts = checkout_facts(job) if rendered.get("kind") == "checkout" else None
    if facts is None:
        return rendered
    return {**rendered, "checkout": {**(rendered.get("checkout") or {}), **facts}}


def job_claim_payload(job: JobRun) -> dict:
    build = build_with_plan(job.build)
    index = engine.PlanIndex(build.plan)
    plan_job = index.plan_job(job_state(job, job.key in index.entries, []))
    timeout_minutes = plan_job.get("timeout_minutes") or 360
    env = {"CI": "true", **agent_job_environment(job.agent)}
    return {
        "id": str(job.id),
        "attempt": job.attempt,
        "lease_seconds": int((job.lease_expires_at - timezone.now()).total_seconds()),
        "build": {
            "id": str(build.id),
            "number": build.number,
            "pipeline": build.pipeline.slug,
            "project": build.pipeline.project.slug,
        },
        "name": job.name,
        "key": job.key,
        "workspace": workspace_path(job),
        "timeout_seconds": int(float(timeout_minutes) * 60),
        "env": env,
        "mask": sorted(str(value) for value in build_secrets(build).values() if value),
        "checkout": checkout_facts(job),
    }


def completed_reports(completed) -> list[dict]:
    """`completed` is one step's report or, after steps run from `then`, a list of them."""
    if not completed:
        return []
    reports = completed if isinstance(completed, list) else [completed]
    if not all(isinstance(report, dict) for report in reports):
        raise ValueError("'completed' must be an object or a list of objects")
    return reports


def step_record(job: JobRun, completed: dict) -> None:
    """Store what the agent says about a finished step; a repeated report changes nothing."""
    status = completed.get("status")
    if status not in STEP_STATUSES:
        status = Status.FAILED
    attempt = int(completed.get("attempt", 1))
    step = StepRun.objects.filter(job=job, job_attempt=job.attempt, index=int(completed.get("index", -1)))
    step.filter(~Q(status__in=TERMINAL_STATUSES) | Q(attempt__lt=attempt)).update(
        status=status,
        outcome=status,
        attempt=attempt,
        exit_code=completed.get("exit_code"),
        outputs={str(k): str(v) for k, v in (completed.get("outputs") or {}).items()},
        env={str(k): str(v) for k, v in (completed.get("env") or {}).items()},
        path=[str(p) for p in (completed.get("path") or [])],
        metrics=completed.get("metrics") or {},
        started_at=parse_datetime(completed.get("started_at") or "") or F("started_at"),
        finished_at=parse_datetime(completed.get("finished_at") or "") or timezone.now(),
    )


def job_decide(job: JobRun, runner: dict):
    """(decision, plan job, contexts, started steps) for the job's next step."""
    build = job.build
    state, steps_by_job = load_state(build, full_job_id=job.id)
    job_state = state.jobs[job.key]
    plan_job = engine.PlanIndex(build.plan).plan_job(job_state)
    steps = [step_state(row) for row in steps_by_job.get(job.id, [])]
    contexts = engine.job_contexts(
        plan=build.plan, build=state, job=job_state, steps=steps, runner=runner, secrets=build_secrets(build)
    )
    decision = engine.decide_next_step(build.plan, plan_job, steps, contexts, job.cancel_requested)
    return decision, plan_job, contexts, steps


def step_mark(job: JobRun, index: int, **fields) -> None:
    StepRun.objects.filter(job=job, job_attempt=job.attempt, index=index).update(**fields)


def job_step_next(*, agent, job_id, completed: dict | None, runner: dict | None) -> dict:
    """Record the completed step and answer the next one, `done`, or `cancel`."""
    with transaction.atomic():
        job = job_for_agent(agent=agent, job_id=job_id, lock=True)
        if runner and runner != job.runner:
            job.runner = runner
            JobRun.objects.filter(id=job.id).update(runner=runner)
        for report in completed_reports(completed):
            step_record(job, report)
        if job.status != Status.RUNNING:
            return {"cancel": True}
        for _ in range(10_000):
            decision, plan_job, contexts, steps = job_decide(job, job.runner or {})
            if isinstance(decision, engine.RunStep):
                step_mark(
                    job,
                    decision.index,
                    status=Status.RUNNING,
                    attempt=decision.attempt,
                    started_at=timezone.now(),
                )
                then = [] if job.cancel_requested else engine.lookahead_steps(
                    job.build.plan, plan_job, decision.index, steps, contexts
                )
                return {"step": with_repository(job, decision.rendered), "then": then}
            if isinstance(decision, engine.SkipStep):
                step_mark(
                    job,
                    decision.index,
                    status=Status.SKIPPED,
                    reason=decision.reason,
                    outcome="skipped",
                    conclusion="skipped",
                )
                continue
            if isinstance(decision, engine.FailStep):
                step_mark(
                    job,
                    decision.index,
                    status=Status.FAILED,
                    attempt=decision.attempt,
                    reason=decision.reason,
                    outcome="failure",
                    finished_at=timezone.now(),
                )
                continue
            if job.cancel_requested:
                return {"cancel": True}
            return {"done": True}
    raise RuntimeError("step decisions did not settle")


def job_step_progress(*, agent, job_id, completed, running: dict | None) -> dict:
    """Record the steps an agent ran from `then` so far and mark the one it is running now."""
    with transaction.atomic():
        job = job_for_agent(agent=agent, job_id=job_id, lock=True)
        if job.status != Status.RUNNING:
            return {"cancel": True}
        for report in completed_reports(completed):
            step_record(job, report)
        if isinstance(running, dict):
            StepRun.objects.filter(
                job=job, job_attempt=job.attempt, index=int(running.get("index", -1)), status=Status.PENDING
            ).update(
                status=Status.RUNNING,
                attempt=int(running.get("attempt", 1)),
                started_at=parse_datetime(str(running.get("started_at") or "")) or timezone.now(),
            )
        return {"cancel": job.cancel_requested}


def job_finish(
    *, agent, job_id, status: str, error: str | None, lines: list[dict] = (), completed=None
) -> dict:
    """Store the job's last log lines and step reports, then end it: its status comes from its
    steps (the agent's word only when they say nothing). Answers `stored_through` for the lines."""
    stored = job_logs_append(agent=agent, job_id=job_id, lines=list(lines))["stored_through"]
    with transaction.atomic():
        job = job_for_agent(agent=agent, job_id=job_id, lock=True)
        if job.status != Status.RUNNING:
            return {"stored_through": stored}
        for report in completed_reports(completed):
            step_record(job, report)
        _, plan_job, contexts, steps = job_decide(job, job.runner or {})
        final, reason = engine.job_status_from_steps(plan_job, steps, contexts, job.cancel_requested)
        if not steps and status in STEP_STATUSES and status != Status.SUCCEEDED:
            final, reason = status, error or f"the agent reported {status}"
        StepRun.objects.filter(
            job=job, job_attempt=job.attempt, status__in=[Status.PENDING, Status.RUNNING]
        ).update(status=Status.CANCELED if final == Status.CANCELED else Status.SKIPPED)
        JobRun.objects.filter(id=job.id).update(
            status=final,
            reason=reason or (error or ""),
            outputs=engine.job_outputs(plan_job, contexts),
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        emit_build_advance(job.build_id)
    return {"stored_through": stored}


def job_logs_append(*, agent, job_id, lines: list[dict]) -> dict:
    job = job_for_agent(agent=agent, job_id=job_id)
    mask = [str(value) for value in build_secrets(job.build).values() if value]
    stored = log_lines_append(job=job, attempt=job.attempt, lines=lines, mask=mask)
    return {"stored_through": stored, "cancel": job.cancel_requested or job.status in TERMINAL_STATUSES}
