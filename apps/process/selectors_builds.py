"""Reads of builds: lists, one build with its stages, jobs and steps, a job's log page by page,
and what a pipeline's run form needs. Always scoped to what the asking user may see."""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from apps.core.errors import NotFound
from apps.core.permissions import user_listed
from apps.core.selectors import project_list_for_user
from apps.environment.selectors import node_group_list
from apps.log.lines import Line
from apps.log.selectors import SearchTarget, log_lines_page, log_total_lines
from apps.process.choices import TERMINAL_STATUSES, Status
from apps.process.language import PipelineError, TriggerEvent, compile_pipeline
from apps.process.models import Build, JobRun, Pipeline, ReviewStatus, StageReview, StageRun, StepRun
from apps.process.selectors import pipeline_get_for_user
from apps.quality import selectors as quality_selectors
from apps.quality.choices import GateResult

BRANCH_PREFIX = "refs/heads/"
TAG_PREFIX = "refs/tags/"
BUILD_EVENTS = ("push", "pull_request", "tag", "schedule", "manual", "remote", "api", "retry")
FOCUS_ORDER = (Status.RUNNING, Status.FAILED, Status.TIMED_OUT, Status.QUEUED)


def duration_seconds(started_at: datetime | None, finished_at: datetime | None, now=None) -> float | None:
    """How long something ran: to its finish, or until now while it still runs."""
    if started_at is None:
        return None
    end = finished_at or now or timezone.now()
    return max(0.0, (end - started_at).total_seconds())


def trigger_branch(trigger: dict) -> str:
    ref = trigger.get("ref") or ""
    return ref.removeprefix(BRANCH_PREFIX) if ref.startswith(BRANCH_PREFIX) else ""


def trigger_tag(trigger: dict) -> str:
    ref = trigger.get("ref") or ""
    return ref.removeprefix(TAG_PREFIX) if ref.startswith(TAG_PREFIX) else ""


def build_actor(build: Build) -> str:
    if build.created_by is not None:
        return build.created_by.username
    return build.trigger.get("actor") or ""


def hand_trigger(*, event: str, user, branch: str, sha: str = "") -> TriggerEvent:
    """The trigger of a build started by hand (run form, REST API) on a branch."""
    return TriggerEvent(event=event, ref=f"{BRANCH_PREFIX}{branch}", sha=sha, actor=user.username)


def build_list(pipeline: Pipeline) -> QuerySet[Build]:
    return (
        Build.objects.filter(pipeline=pipeline)
        .select_related("created_by", "version")
        .order_by("-number")
    )


def build_list_recent_for_user(user, *, limit: int = 10) -> list[Build]:
    """The latest builds of every project the user may see, newest first."""
    projects = project_list_for_user(user).values("pk")
    builds = (
        Build.objects.filter(pipeline__project__in=projects)
        .select_related("pipeline__project", "created_by")
        .order_by("-id")
    )
    return list(builds[:limit])


def build_get(pipeline: Pipeline, number: int) -> Build:
    build = build_list(pipeline).filter(number=number).first()
    if build is None:
        raise NotFound(f"Build #{number} of {pipeline.slug} not found.")
    build.pipeline = pipeline
    return build


def build_get_for_user(user, project_slug: str, pipeline_slug: str, number: int) -> Build:
    return build_get(pipeline_get_for_user(user, project_slug, pipeline_slug), number)


@dataclass
class JobGroup:
    """The jobs of one job id in a stage: one job, or every combination of a matrix."""

    job_id: str
    jobs: list[JobRun] = field(default_factory=list)

    @property
    def is_matrix(self) -> bool:
        return len(self.jobs) > 1 or any(job.matrix for job in self.jobs)


def _steps_by_job_attempt(build: Build) -> dict[tuple[int, int], list[StepRun]]:
    steps: dict[tuple[int, int], list[StepRun]] = {}
    for step in StepRun.objects.filter(job__build=build).order_by("index"):
        steps.setdefault((step.job_id, step.job_attempt), []).append(step)
    return steps


def build_stages(build: Build) -> list[StageRun]:
    """The build's stages in order. Each has `job_list` (jobs in creation order) and `job_groups`;
    each job has `step_list`, the steps of its current attempt."""
    jobs = JobRun.objects.select_related("agent").order_by("id")
    stages = list(
        StageRun.objects.filter(build=build)
        .prefetch_related(Prefetch("jobs", queryset=jobs, to_attr="job_list"))
        .order_by("index")
    )
    steps = _steps_by_job_attempt(build)
    for stage in stages:
        groups: dict[str, JobGroup] = {}
        for job in stage.job_list:
            job.build = build
            job.step_list = steps.get((job.id, job.attempt), [])
            groups.setdefault(job.job_id, JobGroup(job.job_id)).jobs.append(job)
        stage.job_groups = list(groups.values())
    return stages


def build_with_runs(build: Build) -> Build:
    """The build with `stage_list` set: its stages, their jobs and the jobs' current steps."""
    build.stage_list = build_stages(build)
    build.review_list = list(
        StageReview.objects.filter(build=build, build_attempt=build.attempt).select_related("decided_by")
    )
    return build


def build_job_focus(stages: list[StageRun], key: str | None = None) -> JobRun | None:
    """The job a build page shows first: the one asked for, else the first running, failed,
    timed out or queued one, else the first job."""
    jobs = [job for stage in stages for job in stage.job_list]
    for job in jobs:
        if job.key == key:
            return job
    for status in FOCUS_ORDER:
        for job in jobs:
            if job.status == status:
                return job
    return jobs[0] if jobs else None


def build_jobs(build: Build) -> list[JobRun]:
    return [job for stage in build_stages(build) for job in stage.job_list]


def job_steps(job: JobRun, attempt: int) -> list[StepRun]:
    return list(StepRun.objects.filter(job=job, job_attempt=attempt).order_by("index"))


def job_get(build: Build, key: str) -> JobRun:
    """One job of the build, with `step_list` (the steps of its current attempt)."""
    job = JobRun.objects.select_related("agent").filter(build=build, key=key).first()
    if job is None:
        raise NotFound(f"Job {key} of build #{build.number} not found.")
    job.build = build
    job.step_list = job_steps(job, job.attempt)
    return job


def job_attempt_or_current(job: JobRun, attempt: int | None) -> int:
    if attempt is None:
        return job.attempt
    if not 1 <= attempt <= job.attempt:
        raise NotFound(f"Job {job.key} has no attempt {attempt}.")
    return attempt


@dataclass
class LogPage:
    lines: list[Line]
    attempt: int
    next_after: int
    complete: bool
    total_lines: int = 0


def job_log_page(job: JobRun, *, attempt: int | None = None, after: int = 0, limit: int = 1000) -> LogPage:
    """Lines after `after`, at most `limit`; `complete` once the attempt is over and no line is left."""
    attempt = job_attempt_or_current(job, attempt)
    lines = log_lines_page(job=job, attempt=attempt, after_seq=after, limit=limit + 1)
    more = len(lines) > limit
    lines = lines[:limit]
    over = attempt < job.attempt or job.status in TERMINAL_STATUSES
    return LogPage(
        lines=lines,
        attempt=attempt,
        next_after=lines[-1].seq if lines else after,
        complete=over and not more,
        total_lines=log_total_lines(job=job, attempt=attempt),
    )


def job_log_target(job: JobRun, attempt: int | None = None, after_seq: int = 0) -> SearchTarget:
    return SearchTarget(job=job, attempt=job_attempt_or_current(job, attempt), after_seq=after_seq)


def build_log_targets(build: Build) -> list[SearchTarget]:
    """Every job of the build at its current attempt, in stage order, labelled with its key."""
    jobs = build.jobs.order_by("stage__index", "id")
    return [SearchTarget(job=job, attempt=job.attempt, label=job.key) for job in jobs]


@dataclass(frozen=True)
class RunSpec:
    """What a pipeline's run form offers: whether it may run by hand, its manual inputs and,
    for inputs of type environment, the node groups to choose from."""

    enabled: bool
    inputs: dict
    environments: list[str]
    problem: str = ""


def pipeline_run_spec(pipeline: Pipeline) -> RunSpec:
    if pipeline.current_version is None:
        return RunSpec(False, {}, [], "The pipeline has no YAML yet.")
    try:
        plan = compile_pipeline(
            pipeline.current_yaml, filename=pipeline.slug, trigger=TriggerEvent(event="manual")
        )
    except PipelineError as error:
        count = len(error.problems)
        return RunSpec(False, {}, [], f"The current version has {count} problem{'s' * (count != 1)}.")
    manual = (plan.get("triggers") or {}).get("manual") or {}
    if not manual.get("enabled", True):
        return RunSpec(False, {}, [], "Manual runs are disabled in the pipeline's YAML.")
    inputs = plan.get("inputs") or {}
    needs_groups = any(spec["type"] == "environment" for spec in inputs.values())
    groups = list(node_group_list(pipeline.project).values_list("name", flat=True)) if needs_groups else []
    return RunSpec(True, inputs, groups)


def build_stage_checks(build: Build, user) -> dict:
    """The reviews of the build's current attempt, and its blocked gate checks by stage, each
    marked with whether `user` may decide it (`may_decide`)."""
    project = build.pipeline.project
    reviews = list(
        StageReview.objects.filter(build=build, build_attempt=build.attempt).select_related("decided_by")
    )
    for review in reviews:
        waiting = review.status == ReviewStatus.WAITING
        review.may_decide = waiting and user_listed(user, project, review.reviewers)
    blocked: dict[int, list] = {}
    checks = quality_selectors.build_gate_checks(build.id, build.attempt)
    for check in checks.filter(result=GateResult.BLOCKED):
        blocked.setdefault(check.stage_index, []).append(check)
    gates = [
        {
            "stage_index": index,
            "checks": checks,
            "may_decide": all(user_listed(user, project, check.gatekeepers) for check in checks),
        }
        for index, checks in sorted(blocked.items())
    ]
    return {"reviews": reviews, "blocked_gates": gates}


def stage_reviewers(build: Build, stage_index: int) -> list[str]:
    """Who may approve the review of a stage of the build's current attempt (names, `role:<role>`)."""
    reviews = StageReview.objects.filter(build=build, build_attempt=build.attempt, stage_index=stage_index)
    review = reviews.first()
    return list(review.reviewers) if review else []
