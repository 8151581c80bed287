"""The jobs agents run: what a claimed job looks like, its steps one by one, its logs, its end.

These are the process side of the agent protocol (docs/agent-protocol.md); the views in
`apps.dispatch.api` only authenticate the agent and call them.
"""

import time
from collections import OrderedDict
from collections.abc import Callable

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.core.errors import NotFound
from apps.environment.selectors import agent_job_environment
from apps.log.services import log_columns_append, log_lines_append
from apps.process import engine
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.models import JobRun, StepRun
from apps.process.services.checkout import checkout_facts, with_repository
from apps.process.services.engine import job_state, load_state, step_state
from apps.process.services.events import emit_build_advance
from apps.process.services.live import build_changed_on_commit
from apps.process.services.plan_cache import build_with_plan
from apps.quality.choices import MetricSource
from apps.quality.metrics import metrics_record
from apps.ticket.masking import SecretMask, flat_values

STEP_STATUSES = frozenset({Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT, Status.CANCELED})

# Callables (build, job, *, claim) -> {name: value} that supply the secrets a claimed job
# references; the ticket app and `pipeline run --secret` register theirs. Secrets are resolved per
# request (`claim=True` once, when the job is claimed) and never stored: not in the Plan, the
# build's variables, the logs, the broker or the channel layer.
SECRET_PROVIDERS: list[Callable] = []
MASK_CACHE_SECONDS = 10.0
_masks: OrderedDict = OrderedDict()


def build_secrets(build, job=None, *, claim: bool = False) -> dict:
    secrets: dict = {}
    for provider in SECRET_PROVIDERS:
        secrets.update(provider(build, job, claim=claim) or {})
    return secrets


def job_secret_mask(job: JobRun) -> SecretMask:
    """The mask of the values `job` receives, kept a few seconds per process (log batches come often)."""
    key, now = (job.id, job.attempt), time.monotonic()
    cached = _masks.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    mask = SecretMask(flat_values(build_secrets(job.build, job)))
    _masks[key] = (now + MASK_CACHE_SECONDS, mask)
    while len(_masks) > 256:
        _masks.popitem(last=False)
    return mask


def masked_texts(values, mask: SecretMask) -> dict:
    """A reported name -> text mapping, as texts, with secrets masked."""
    return masked_values({str(name): str(value) for name, value in (values or {}).items()}, mask)


def masked_values(values: dict, mask: SecretMask) -> dict:
    """Outputs that contain a secret are stored masked (as GitHub Actions redacts them)."""
    if not mask:
        return values
    return {name: mask.mask(str(value)) for name, value in values.items()}


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
        "mask": flat_values(build_secrets(build, job, claim=True)),
        "checkout": checkout_facts(job),
        **job_first_step(job, plan_job),
    }


def job_first_step(job: JobRun, plan_job: dict) -> dict:
    """`next`: what the job's first `steps/next` would answer, handed out with the claim when the
    first step cannot depend on the runner (protocol 1.3); the agent then runs it at once."""
    if job.cancel_requested or not engine.first_step_offered(job.build.plan, plan_job):
        return {}
    return {"next": next_step_answer(job)}


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
    mask = job_secret_mask(job)  # outputs and exported env are stored with their secrets masked
    metrics = completed.get("metrics") or {}
    step = StepRun.objects.filter(job=job, job_attempt=job.attempt, index=int(completed.get("index", -1)))
    updated = step.filter(~Q(status__in=TERMINAL_STATUSES) | Q(attempt__lt=attempt)).update(
        status=status,
        outcome=status,
        attempt=attempt,
        exit_code=completed.get("exit_code"),
        outputs=masked_texts(completed.get("outputs"), mask),
        env=masked_texts(completed.get("env"), mask),
        path=[str(p) for p in (completed.get("path") or [])],
        metrics=metrics,
        started_at=parse_datetime(completed.get("started_at") or "") or F("started_at"),
        finished_at=parse_datetime(completed.get("finished_at") or "") or timezone.now(),
    )
    if updated and metrics:
        metrics_record(
            build_id=job.build_id, job_id=job.id, metrics=metrics, source=MetricSource.STEP, mask=mask
        )


def job_decide(job: JobRun, runner: dict):
    """(decision, plan job, contexts, started steps) for the job's next step."""
    build = job.build
    state, steps_by_job = load_state(build, full_job_id=job.id)
    job_state = state.jobs[job.key]
    plan_job = engine.PlanIndex(build.plan).plan_job(job_state)
    steps = [step_state(row) for row in steps_by_job.get(job.id, [])]
    contexts = engine.job_contexts(
        plan=build.plan, build=state, job=job_state, steps=steps, runner=runner,
        secrets=build_secrets(build, job),
    )
    decision = engine.decide_next_step(build.plan, plan_job, steps, contexts, job.cancel_requested)
    return decision, plan_job, contexts, steps


def step_mark(job: JobRun, index: int, **fields) -> None:
    StepRun.objects.filter(job=job, job_attempt=job.attempt, index=index).update(**fields)


def decided_step_fields(decision) -> dict | None:
    """What a step decision writes to its row; None for a decision about no step (done)."""
    if isinstance(decision, engine.RunStep):
        return {"status": Status.RUNNING, "attempt": decision.attempt, "started_at": timezone.now()}
    if isinstance(decision, engine.SkipStep):
        return {
            "status": Status.SKIPPED, "reason": decision.reason,
            "outcome": "skipped", "conclusion": "skipped",
        }
    if isinstance(decision, engine.FailStep):
        return {
            "status": Status.FAILED, "attempt": decision.attempt, "reason": decision.reason,
            "outcome": "failure", "finished_at": timezone.now(),
        }
    return None


def next_step_answer(job: JobRun) -> dict:
    """Decide until a step is handed out or none is left: a skipped or failed step is recorded and
    the next one decided. Answers `step` (and `then`), `done` or `cancel` (docs/agent-protocol.md)."""
    for _ in range(10_000):
        decision, plan_job, contexts, steps = job_decide(job, job.runner or {})
        fields = decided_step_fields(decision)
        if fields is None:
            return {"cancel": True} if job.cancel_requested else {"done": True}
        step_mark(job, decision.index, **fields)
        if isinstance(decision, engine.RunStep):
            then = [] if job.cancel_requested else engine.lookahead_steps(
                job.build.plan, plan_job, decision.index, steps, contexts
            )
            secrets = contexts.get("secrets")
            return {"step": with_repository(job, decision.rendered, secrets), "then": then}
    raise RuntimeError("step decisions did not settle")


def job_runner_record(job: JobRun, runner: dict | None) -> None:
    """Keep the runner facts the agent reports (the `runner` context of later steps and outputs)."""
    if isinstance(runner, dict) and runner and runner != job.runner:
        job.runner = runner
        JobRun.objects.filter(id=job.id).update(runner=runner)


def job_step_next(*, agent, job_id, completed: dict | None, runner: dict | None) -> dict:
    """Record the completed step and answer the next one, `done`, or `cancel`."""
    with transaction.atomic():
        job = job_for_agent(agent=agent, job_id=job_id, lock=True)
        build_changed_on_commit(job.build_id)
        job_runner_record(job, runner)
        for report in completed_reports(completed):
            step_record(job, report)
        if job.status != Status.RUNNING:
            return {"cancel": True}
        return next_step_answer(job)


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


def steps_left_open(plan_job: dict, steps: list) -> bool:
    """Whether a step of the job is still pending or running (the job's end closes it)."""
    finished = {step.index for step in steps if step.status in TERMINAL_STATUSES}
    return any(plan_step["index"] not in finished for plan_step in plan_job.get("steps") or [])


def job_finish(
    *, agent, job_id, status: str, error: str | None, lines: list[dict] = (), completed=None, runner=None
) -> dict:
    """Store the job's last log lines and step reports, then end it: its status comes from its
    steps (the agent's word only when they say nothing). Answers `stored_through` for the lines
    (null when none came)."""
    with transaction.atomic():
        job = job_for_agent(agent=agent, job_id=job_id, lock=True)
        stored = job_lines_store(job, list(lines)) if lines else None
        if job.status != Status.RUNNING:
            return {"stored_through": stored}
        job_runner_record(job, runner)
        for report in completed_reports(completed):
            step_record(job, report)
        _, plan_job, contexts, steps = job_decide(job, job.runner or {})
        final, reason = engine.job_status_from_steps(plan_job, steps, contexts, job.cancel_requested)
        if not steps and status in STEP_STATUSES and status != Status.SUCCEEDED:
            final, reason = status, error or f"the agent reported {status}"
        if steps_left_open(plan_job, steps):
            StepRun.objects.filter(
                job=job, job_attempt=job.attempt, status__in=[Status.PENDING, Status.RUNNING]
            ).update(status=Status.CANCELED if final == Status.CANCELED else Status.SKIPPED)
        JobRun.objects.filter(id=job.id).update(
            status=final,
            reason=reason or (error or ""),
            outputs=masked_values(engine.job_outputs(plan_job, contexts), job_secret_mask(job)),
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        emit_build_advance(job.build_id)
    return {"stored_through": stored}


def job_lines_store(job: JobRun, lines: list[dict]) -> int:
    """Mask a batch (as one text, see apps.ticket.masking) and store it; the highest seq stored
    without a gap."""
    return log_lines_append(job=job, attempt=job.attempt, lines=job_secret_mask(job).mask_lines(lines))


def job_columns_store(job: JobRun, columns: dict) -> int:
    """The same for a batch in the agent's column form (protocol 1.3)."""
    mask, texts = job_secret_mask(job), columns.get("texts")
    if mask and type(texts) is list and all(type(text) is str for text in texts):
        columns = {**columns, "texts": mask.mask_texts(texts)}
    return log_columns_append(job=job, attempt=job.attempt, columns=columns)


def job_logs_append(*, agent, job_id, lines: list[dict] | None = None, columns: dict | None = None) -> dict:
    """Store a batch of log lines, as line objects or in column form; the answer says the server
    takes column form."""
    job = job_for_agent(agent=agent, job_id=job_id)
    stored = job_columns_store(job, columns) if columns is not None else job_lines_store(job, lines or [])
    cancel = job.cancel_requested or job.status in TERMINAL_STATUSES
    return {"stored_through": stored, "cancel": cancel, "columns": True}
