"""Pages of builds: the run form, a build's page (with its live status fragment and a job's log),
the cancel and retry buttons, a stage review's approve / reject and a blocked gate's override. The
pipeline page and the dashboard list builds through `apps.process.templatetags.build_tags`."""

from urllib.parse import quote, urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.api.exceptions import error_status
from apps.core.choices import Role
from apps.core.errors import ApplicationError, Conflict, PermissionDenied, ValidationFailed
from apps.core.forms import form_add_error
from apps.core.permissions import has_role, require_role
from apps.process.choices import ACTIVE_STATUSES, TERMINAL_STATUSES
from apps.process.forms_builds import ReviewForm, run_form_for
from apps.process.selectors import pipeline_get_for_user
from apps.process.selectors_builds import (
    build_get_for_user,
    build_job_focus,
    build_stage_checks,
    build_stages,
    hand_trigger,
    job_get,
    job_steps,
)
from apps.process.selectors_graph import build_graph_columns
from apps.process.services.builds import build_cancel as cancel_build
from apps.process.services.builds import build_retry as retry_build
from apps.process.services.builds import build_start
from apps.process.services.builds import job_cancel as cancel_job
from apps.process.services.stage_checks import gate_override, review_decide
from apps.quality.metrics import build_metric_table

DECISION_REFUSALS = (Conflict, ValidationFailed, PermissionDenied)
API_BUILD = "/api/v1/projects/{slug}/pipelines/{pipeline}/builds/{number}/"
SOCKET_BUILD = "/ws/projects/{slug}/pipelines/{pipeline}/builds/{number}/"


def _render_run(request, pipeline, form, reason="", error: ApplicationError | None = None):
    context = {"project": pipeline.project, "pipeline": pipeline, "form": form, "reason": reason}
    return render(request, "process/build_run.html", context, status=error_status(error) if error else 200)


@login_required
def build_run(request, slug, pipeline):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    require_role(request.user, pipeline.project, Role.DEVELOPER)
    form, reason = run_form_for(pipeline, request.POST if request.method == "POST" else None)
    if form is None or request.method != "POST" or not form.is_valid():
        return _render_run(request, pipeline, form, reason)
    trigger = hand_trigger(event="manual", user=request.user, branch=form.cleaned_data["branch"])
    try:
        build = build_start(pipeline=pipeline, user=request.user, trigger=trigger, inputs=form.input_values())
    except (ValidationFailed, Conflict) as error:
        if isinstance(error, ValidationFailed) and error.problems:
            form.add_problems(error.problems)
        else:
            form_add_error(form, error)
        return _render_run(request, pipeline, form, error=error)
    messages.success(request, f"Build #{build.number} started.")
    return redirect("build-detail", slug=slug, pipeline=pipeline.slug, number=build.number)


def _attempt(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def status_context(request, build) -> dict:
    """What the live part of a build page shows: header, stages and the focused job's steps."""
    stages = build_graph_columns(build=build, stages=build_stages(build))
    job = build_job_focus(stages, request.GET.get("job"))
    context = {
        "project": build.pipeline.project,
        "pipeline": build.pipeline,
        "build": build,
        "stages": stages,
        "job": job,
        "finished": build.status in TERMINAL_STATUSES,
        "can_operate": has_role(request.user, build.pipeline.project, Role.DEVELOPER),
        "active_statuses": [str(status) for status in ACTIVE_STATUSES],
        **stage_checks_context(request, build, stages),
    }
    if job is not None:
        requested = _attempt(request.GET.get("attempt"))
        attempt = requested if requested and 1 <= requested <= job.attempt else job.attempt
        context.update(
            attempt=attempt,
            attempts=range(1, job.attempt + 1),
            steps=job.step_list if attempt == job.attempt else job_steps(job, attempt),
        )
    return context


def stage_checks_context(request, build, stages) -> dict:
    """The stage reviews and blocked gates of the build, with a form where the user may decide."""
    checks = build_stage_checks(build, request.user)
    names = {stage.index: stage.name for stage in stages}
    for review in checks["reviews"]:
        review.stage_name = names.get(review.stage_index, review.stage_index)
        if review.may_decide:
            review.form = ReviewForm(inputs=review.inputs, prefix=f"review{review.stage_index}")
    for gate in checks["blocked_gates"]:
        gate["stage_name"] = names.get(gate["stage_index"], gate["stage_index"])
    return checks


@login_required
def build_detail(request, slug, pipeline, number):
    build = build_get_for_user(request.user, slug, pipeline, number)
    context = status_context(request, build)
    names = {"slug": build.pipeline.project.slug, "pipeline": build.pipeline.slug, "number": build.number}
    context.update(api_build=API_BUILD.format(**names), socket_path=SOCKET_BUILD.format(**names))
    context.update(metrics_table=build_metric_table(build.id))
    job = context["job"]
    if job is not None:
        context.update(
            api_job=f"{context['api_build']}jobs/{quote(job.key, safe='')}/",
            log_live=context["attempt"] == job.attempt and job.status not in TERMINAL_STATUSES,
        )
    return render(request, "process/build_detail.html", context)


@login_required
def build_status(request, slug, pipeline, number):
    build = build_get_for_user(request.user, slug, pipeline, number)
    return render(request, "process/build_status.html", status_context(request, build))


def _back_to_build(build, job_key: str = ""):
    response = redirect("build-detail", slug=build.pipeline.project.slug, pipeline=build.pipeline.slug,
                        number=build.number)
    if job_key:
        response["Location"] += "?" + urlencode({"job": job_key})
    return response


def _operate(request, build, change, done: str, job_key: str = "", shown=(Conflict, ValidationFailed)):
    """Run a cancel, retry or decision and go back to the build page with its outcome as a message
    (the `shown` errors; others answer with their status)."""
    try:
        change()
    except shown as error:
        details = error.details if isinstance(error.details, dict) else {}
        messages.error(request, " ".join([error.message, *(f"{k}: {v}" for k, v in details.items())]))
    else:
        messages.success(request, done)
    return _back_to_build(build, job_key)


@login_required
@require_POST
def build_cancel(request, slug, pipeline, number):
    build = build_get_for_user(request.user, slug, pipeline, number)

    def cancel():
        cancel_build(build=build, user=request.user)

    return _operate(request, build, cancel, f"Cancel of #{number} requested.")


@login_required
@require_POST
def build_retry(request, slug, pipeline, number):
    build = build_get_for_user(request.user, slug, pipeline, number)
    only_failed = request.POST.get("only_failed") in ("1", "true", "on")

    def retry():
        retry_build(build=build, user=request.user, only_failed=only_failed)

    which = "failed jobs" if only_failed else "all jobs"
    return _operate(request, build, retry, f"Build #{number} runs again ({which}).")


@login_required
@require_POST
def job_cancel(request, slug, pipeline, number, key):
    build = build_get_for_user(request.user, slug, pipeline, number)
    job = job_get(build, key)

    def cancel():
        cancel_job(job=job, user=request.user)

    return _operate(request, build, cancel, f"Cancel of {job.name} requested.", key)


@login_required
@require_POST
def build_review(request, slug, pipeline, number, stage):
    build = build_get_for_user(request.user, slug, pipeline, number)
    review = next((each for each in build_stage_checks(build, request.user)["reviews"]
                   if each.stage_index == stage), None)
    approve = request.POST.get("decision") == "approve"
    form = ReviewForm(request.POST, inputs=review.inputs if review else {}, prefix=f"review{stage}")

    def decide():
        if not form.is_valid():
            raise ValidationFailed("the review's inputs are not valid", details=form.errors.get_json_data())
        values = form.input_values() if approve else {}
        review_decide(build=build, stage_index=stage, user=request.user, approve=approve,
                      comment=form.cleaned_data["comment"], values=values)

    done = "Stage approved." if approve else "Stage rejected: the build is canceled."
    return _operate(request, build, decide, done, shown=DECISION_REFUSALS)


@login_required
@require_POST
def build_override(request, slug, pipeline, number, stage):
    build = build_get_for_user(request.user, slug, pipeline, number)

    def override():
        comment = request.POST.get("comment", "")
        gate_override(build=build, stage_index=stage, user=request.user, comment=comment)

    done = "The blocked gate was overridden: the stage goes on."
    return _operate(request, build, override, done, shown=DECISION_REFUSALS)
