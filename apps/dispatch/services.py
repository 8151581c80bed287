"""Matching queued jobs to agents: claims, leases and the sweep that repairs lost work.

An agent claims the oldest queued job whose `runs-on` labels it all has (and whose pool, if any,
is one of its node groups), in a project it may serve. On PostgreSQL the candidate rows are
locked with `SELECT ... FOR UPDATE SKIP LOCKED`, so concurrent claims never hand out one job
twice; on SQLite a write transaction is exclusive anyway.
"""

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, prefetch_related_objects
from django.utils import timezone

from apps.environment.models import Agent
from apps.environment.selectors import agent_pool_names
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.models import Build, JobRun
from apps.process.services.builds import job_reset
from apps.process.services.events import emit_build_advance
from apps.process.services.jobs import job_claim_payload
from apps.process.services.live import build_changed_on_commit
from apps.process.services.plan_cache import build_with_plan
from apps.process.services.stage_checks import overdue_build_ids

CLAIM_WINDOW = 200


def lease_duration() -> timedelta:
    return timedelta(seconds=settings.DEVOPS_LEASE_SECONDS)


def fits(job_labels: list[str], job_pool: str, labels: set[str], pools: set[str]) -> bool:
    """Whether an agent with `labels` and node groups `pools` may run a job with these needs."""
    return set(job_labels) <= labels and (not job_pool or job_pool in pools)


def job_fits(job: JobRun, labels: set[str], pools: set[str]) -> bool:
    return fits(job.labels, job.pool, labels, pools)


def running_job_count(agent: Agent) -> int:
    return JobRun.objects.filter(agent=agent, status=Status.RUNNING).count()


def queued_jobs_for(agent: Agent):
    jobs = JobRun.objects.filter(status=Status.QUEUED)
    if agent.project_id is not None:
        jobs = jobs.filter(build__pipeline__project_id=agent.project_id)
    return jobs.order_by("queued_at", "id")


def fitting_job_ids(agent: Agent, labels: set[str], pools: set[str]) -> list[int]:
    """The queued jobs the agent may run, oldest first, among the CLAIM_WINDOW oldest it may see;
    read without a lock (a claim locks only the one it takes)."""
    window = queued_jobs_for(agent).values_list("id", "labels", "pool")[:CLAIM_WINDOW]
    return [job_id for job_id, job_labels, pool in window if fits(job_labels, pool, labels, pools)]


def queued_job_locked(job_id: int) -> JobRun | None:
    """The job, locked, while it is still queued and no other claim holds it; else None."""
    jobs = JobRun.objects.filter(id=job_id, status=Status.QUEUED).select_related("build__pipeline__project")
    jobs = jobs.defer("build__plan")
    if connection.features.has_select_for_update_skip_locked:
        jobs = jobs.select_for_update(skip_locked=True, of=("self",))
    return jobs.first()


def job_claim(*, agent: Agent) -> JobRun | None:
    """Lease the oldest queued job that fits the agent, or None."""
    if not agent.enabled:
        return None
    labels = set(agent.labels)
    pools = agent_pool_names(agent)
    now = timezone.now()
    with transaction.atomic(savepoint=False):
        if running_job_count(agent) >= agent.slots:
            return None
        for job_id in fitting_job_ids(agent, labels, pools):
            job = queued_job_locked(job_id)
            if job is None:
                continue
            job.status = Status.RUNNING
            job.agent = agent
            job.started_at = now
            job.lease_expires_at = now + lease_duration()
            job.save(update_fields=["status", "agent", "started_at", "lease_expires_at"])
            build_changed_on_commit(job.build_id)
            return job
    return None


def job_claim_answer(*, agent: Agent) -> dict | None:
    """Claim a job and describe it to the agent in one transaction (a claim the agent cannot be
    told about is not kept), or None."""
    prefetch_related_objects([agent], "node_groups")  # its pools, and the env of a job it claims
    with transaction.atomic():
        job = job_claim(agent=agent)
        return job_claim_payload(job) if job is not None else None


def jobs_heartbeat(*, agent: Agent, running_job_ids: list) -> list[str]:
    """Extend the leases of the jobs the agent says it runs; answer the ones it must stop."""
    now = timezone.now()
    ids = [int(job_id) for job_id in running_job_ids if str(job_id).isdigit()]
    mine = JobRun.objects.filter(agent=agent, id__in=ids)
    mine.filter(status=Status.RUNNING).update(lease_expires_at=now + lease_duration())
    stop = mine.filter(Q(cancel_requested=True) | ~Q(status=Status.RUNNING))
    return [str(job_id) for job_id in stop.values_list("id", flat=True)]


def stalled_build_ids() -> set[int]:
    """Unfinished builds that nothing is moving on: no job queued or running (the event that would
    advance them was lost with a worker, a broker or a failed publish), or a cancel not yet applied.
    Reviews and gates wait for people, so they are left alone unless canceled (or overdue, see
    `overdue_build_ids`)."""
    active = JobRun.objects.filter(build=OuterRef("pk"), status__in=(Status.QUEUED, Status.RUNNING))
    unfinished = Build.objects.exclude(status__in=TERMINAL_STATUSES).annotate(busy=Exists(active))
    idle = Q(busy=False, status__in=(Status.PENDING, Status.QUEUED, Status.RUNNING))
    return set(unfinished.filter(idle | Q(cancel_requested_at__isnull=False)).values_list("id", flat=True))


def lost_agent_retries(job: JobRun) -> int:
    """How many times the job's `retry` lets it run again when its agent is lost."""
    entries = (entry for stage in build_with_plan(job.build).plan["stages"] for entry in stage["jobs"])
    retry = next((entry.get("retry") for entry in entries if entry["id"] == job.job_id), None) or {}
    return int(retry.get("max") or 0) if "agent-lost" in (retry.get("when") or []) else 0


def job_lost(job: JobRun, now) -> None:
    """Run the job again on another agent while its `retry` allows, else fail it as "agent lost"."""
    lost = f"agent lost: no heartbeat from {job.agent or 'its agent'} within the lease"
    allowed = lost_agent_retries(job)
    with transaction.atomic():
        if JobRun.objects.select_for_update().filter(id=job.id, status=Status.RUNNING).first() is None:
            return
        if job.lost_agent_retries < allowed:
            job_reset(job)
            JobRun.objects.filter(id=job.id).update(
                lost_agent_retries=job.lost_agent_retries + 1,
                reason=f"{lost}; running it again ({job.lost_agent_retries + 1} of {allowed})",
            )
            return
        JobRun.objects.filter(id=job.id, status=Status.RUNNING).update(
            status=Status.FAILED, finished_at=now, lease_expires_at=None, reason=lost
        )


def queue_timeout_reason(job: JobRun) -> str:
    """Why no agent took the job: none fits its labels (and pool), or those that fit stayed busy,
    offline or disabled."""
    wanted = f"labels {sorted(job.labels)}" + (f" in pool '{job.pool}'" if job.pool else "")
    within = f"within {settings.DEVOPS_QUEUE_TIMEOUT_SECONDS} s"
    agents = Agent.objects.filter(Q(project=None) | Q(project_id=job.build.pipeline.project_id))
    fitting = [agent for agent in agents if job_fits(job, set(agent.labels), agent_pool_names(agent))]
    if not fitting:
        return f"no agent has {wanted}: none took the job {within}"
    names = ", ".join(sorted(agent.name for agent in fitting)[:5]) + (", ..." if len(fitting) > 5 else "")
    return f"the agents with {wanted} ({names}) were busy, offline or disabled {within}"


def jobs_sweep(*, now=None) -> int:
    """Fail the jobs whose agent vanished (lease expired) and those no agent took in time, and move
    on the builds a lost event left behind (`build_advance` is idempotent, so an extra one is harmless)."""
    now = now or timezone.now()
    queue_deadline = now - timedelta(seconds=settings.DEVOPS_QUEUE_TIMEOUT_SECONDS)
    lost = JobRun.objects.filter(status=Status.RUNNING, lease_expires_at__lt=now)
    stale = JobRun.objects.filter(status=Status.QUEUED, queued_at__lt=queue_deadline)
    builds = set()
    for job in lost.select_related("build", "agent").defer("build__plan"):
        builds.add(job.build_id)
        job_lost(job, now)
    for job in stale.select_related("build__pipeline"):
        builds.add(job.build_id)
        JobRun.objects.filter(id=job.id, status=Status.QUEUED).update(
            status=Status.FAILED, finished_at=now, reason=queue_timeout_reason(job)
        )
    builds |= stalled_build_ids() | overdue_build_ids(now)
    with transaction.atomic():
        for build_id in builds:
            emit_build_advance(build_id)
    return len(builds)
