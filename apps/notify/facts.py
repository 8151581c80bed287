"""The facts a notification is rendered from, read once per event: project, pipeline, build (status,
duration, trigger, actor, commit, link), the stage of a stage event, and the first failing step with
its last log lines (read through apps.log selectors). JSON-safe, so a Delivery can keep them."""

from django.conf import settings
from django.urls import reverse

from apps.log.selectors import log_lines_page, log_total_lines
from apps.process.choices import Status
from apps.process.models import Build, JobRun, StepRun
from apps.process.selectors_builds import build_actor, duration_seconds, trigger_branch, trigger_tag

FAILED_STATUSES = (Status.FAILED, Status.TIMED_OUT)
VERDICT_STATUSES = (Status.SUCCEEDED, Status.FAILED, Status.TIMED_OUT)
LOG_TAIL_LINES = 20
LOG_WINDOW_LINES = 2000


def absolute_url(path: str) -> str:
    return f"{settings.DEVOPS_BASE_URL.rstrip('/')}{path}"


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m {secs:02d}s"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def previous_verdict(build: Build) -> str | None:
    """The status of the pipeline's latest earlier build that ended with a verdict (succeeded, failed
    or timed out); canceled and skipped builds are passed over."""
    earlier = Build.objects.filter(
        pipeline_id=build.pipeline_id, number__lt=build.number, status__in=VERDICT_STATUSES
    )
    return earlier.order_by("-number").values_list("status", flat=True).first()


def build_is_fixed(build: Build) -> bool:
    """A succeeded build whose previous finished build failed or timed out."""
    return build.status == Status.SUCCEEDED and previous_verdict(build) in FAILED_STATUSES


def step_log_tail(job: JobRun, attempt: int, step_index: int | None) -> list[str]:
    """The last lines the step wrote (the job's last lines when the step wrote none)."""
    total = log_total_lines(job=job, attempt=attempt)
    if total == 0:
        return []
    start = max(0, total - LOG_WINDOW_LINES)
    lines = log_lines_page(job=job, attempt=attempt, after_seq=start, limit=LOG_WINDOW_LINES)
    own = [line for line in lines if line.step == step_index] if step_index is not None else []
    return [line.text for line in (own or lines)[-LOG_TAIL_LINES:]]


def first_failing_step(build: Build) -> dict | None:
    """The first failed job (stage order) and its first failed step, with that step's last lines."""
    jobs = JobRun.objects.filter(build=build, status__in=FAILED_STATUSES).order_by("stage__index", "id")
    job = jobs.first()
    if job is None:
        return None
    steps = StepRun.objects.filter(job=job, job_attempt=job.attempt, status__in=FAILED_STATUSES)
    step = steps.order_by("index").first()
    return {
        "job": job.name,
        "job_key": job.key,
        "job_status": job.status,
        "job_reason": job.reason,
        "name": step.name if step else "",
        "index": step.index if step else None,
        "status": step.status if step else job.status,
        "exit_code": step.exit_code if step else None,
        "reason": (step.reason if step else "") or job.reason,
        "log_lines": step_log_tail(job, job.attempt, step.index if step else None),
    }


def stage_facts(build: Build, stage_index: int | None) -> dict | None:
    if stage_index is None or stage_index < 0:
        return None
    stage = build.stages.filter(index=stage_index).first()
    plan_stages = build.plan.get("stages") or []
    plan_stage = plan_stages[stage_index] if stage_index < len(plan_stages) else {}
    reviews = (plan_stage.get("check_in") or {}).get("reviews") or {}
    return {
        "index": stage_index,
        "id": stage.stage_id if stage else plan_stage.get("id", ""),
        "name": stage.name if stage else plan_stage.get("name", ""),
        "status": stage.status if stage else "",
        "reason": stage.reason if stage else "",
        "reviewers": [str(each) for each in reviews.get("reviewers") or []],
        "review_description": str(reviews.get("description") or ""),
    }


def build_facts(build: Build, *, event: str, stage_index: int | None = None) -> dict:
    pipeline = build.pipeline
    project = pipeline.project
    trigger = build.trigger or {}
    sha = trigger.get("sha") or ""
    seconds = duration_seconds(build.started_at, build.finished_at)
    build_path = reverse(
        "build-detail", kwargs={"slug": project.slug, "pipeline": pipeline.slug, "number": build.number}
    )
    pipeline_path = reverse("pipeline-detail", kwargs={"slug": project.slug, "pipeline": pipeline.slug})
    failing = first_failing_step(build) if build.status in FAILED_STATUSES else None
    return {
        "event": event,
        "title": f"{project.name} / {pipeline.name} #{build.number}",
        "project": {"slug": project.slug, "name": project.name},
        "pipeline": {"slug": pipeline.slug, "name": pipeline.name, "url": absolute_url(pipeline_path)},
        "build": {
            "id": build.id,
            "number": build.number,
            "attempt": build.attempt,
            "status": build.status,
            "status_label": Status(build.status).label if build.status in Status.values else build.status,
            "reason": build.reason,
            "url": absolute_url(build_path),
            "duration_seconds": round(seconds, 3) if seconds is not None else None,
            "duration": human_duration(seconds),
            "started_at": build.started_at.isoformat() if build.started_at else None,
            "finished_at": build.finished_at.isoformat() if build.finished_at else None,
            "trigger": trigger.get("event") or "",
            "actor": build_actor(build),
            "ref": trigger.get("ref") or "",
            "branch": trigger_branch(trigger),
            "tag": trigger_tag(trigger),
            "sha": sha,
            "short_sha": sha[:10],
            "repository": trigger.get("repository") or "",
        },
        "stage": stage_facts(build, stage_index),
        "failing_step": failing,
    }
