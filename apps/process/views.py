"""Pages of the process app: a project's home (pipelines and members) and the pipeline pages."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.api.exceptions import error_status
from apps.core.choices import Role
from apps.core.errors import ApplicationError, NotFound, PermissionDenied, ValidationFailed
from apps.core.filtersets import MembershipFilterSet
from apps.core.forms import form_add_error
from apps.core.permissions import require_role, user_role
from apps.core.selectors import membership_list, project_get_for_user
from apps.process import services
from apps.process.filtersets import PipelineFilterSet
from apps.process.forms import PipelineForm, RepositoryForm
from apps.process.selectors import (
    pipeline_get_for_user,
    pipeline_list_for_user,
    pipeline_version_diff,
    pipeline_version_get,
    pipeline_version_list,
)
from apps.process.selectors_pages import pipeline_last_builds
from apps.quality.charts import pipeline_metric_charts
from apps.ticket.selectors import credential_names_for_checkout


def yaml_listing(yaml: str, problems: list[dict] = ()) -> list[dict]:
    """The YAML's lines, numbered, each with the problems reported on it."""
    by_line: dict[int, list[dict]] = {}
    for problem in problems:
        by_line.setdefault(problem["line"], []).append(problem)
    lines = yaml.split("\n")
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return [
        {"number": number, "text": text, "problems": by_line.get(number, [])}
        for number, text in enumerate(lines, start=1)
    ]


def diff_lines(diff: str) -> list[dict]:
    """The unified diff's lines, each with the CSS class that colours it."""

    def kind(line: str) -> str:
        if line.startswith(("+++", "---")):
            return "file"
        if line.startswith("@@"):
            return "hunk"
        return {"+": "added", "-": "removed"}.get(line[:1], "context")

    return [{"text": line, "kind": kind(line)} for line in diff.splitlines()]


@login_required
def project_detail(request, slug):
    project = project_get_for_user(request.user, slug)
    role = user_role(request.user, project)
    pipelines = PipelineFilterSet(request.GET, queryset=pipeline_list_for_user(request.user, project=project))
    members = MembershipFilterSet(request.GET, queryset=membership_list(project))
    page = Paginator(pipelines.qs, 50).get_page(request.GET.get("page"))
    last_builds = pipeline_last_builds(pipelines=list(page.object_list))
    for pipeline in page.object_list:
        pipeline.last_build = last_builds.get(pipeline.pk)
    return render(
        request,
        "process/project_detail.html",
        {
            "project": project,
            "role": role,
            "filter": pipelines,
            "page": page,
            "member_filter": members,
            "members": members.qs,
            "roles": Role.choices,
            "can_edit_pipelines": role >= Role.DEVELOPER,
            "can_manage_members": role >= Role.MAINTAINER,
            "grantable_roles": [
                choice for choice in Role.choices if role >= Role.OWNER or choice[0] != Role.OWNER
            ],
        },
    )


def _render_pipeline_form(request, context: dict, error: ApplicationError | None = None):
    problems = error.problems if isinstance(error, ValidationFailed) else []
    if error is not None:
        form_add_error(context["form"], error)
    yaml = context["form"].data.get("yaml", "").replace("\r\n", "\n")
    context.update(problems=problems, listing=yaml_listing(yaml, problems) if problems else [])
    return render(
        request, "process/pipeline_form.html", context, status=error_status(error) if error else 200
    )


def _service_error(error: ApplicationError) -> ApplicationError:
    if isinstance(error, NotFound | PermissionDenied):
        raise error
    return error


@login_required
def pipeline_create(request, slug):
    project = project_get_for_user(request.user, slug)
    require_role(request.user, project, Role.DEVELOPER)
    form = PipelineForm(request.POST or None)
    context = {"project": project, "form": form, "creating": True}
    if request.method != "POST" or not form.is_valid():
        return _render_pipeline_form(request, context)
    try:
        pipeline = services.pipeline_create(project=project, user=request.user, **form.cleaned_data)
    except ApplicationError as error:
        return _render_pipeline_form(request, context, _service_error(error))
    messages.success(request, f"Pipeline {pipeline.name} created.")
    return redirect("pipeline-detail", slug=slug, pipeline=pipeline.slug)


@login_required
def pipeline_edit(request, slug, pipeline):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    require_role(request.user, pipeline.project, Role.DEVELOPER)
    initial = {"name": pipeline.name, "description": pipeline.description, "yaml": pipeline.current_yaml}
    form = PipelineForm(request.POST or None, initial=initial, editing=True)
    context = {"project": pipeline.project, "pipeline": pipeline, "form": form, "creating": False}
    if request.method != "POST" or not form.is_valid():
        return _render_pipeline_form(request, context)
    try:
        services.pipeline_update(pipeline=pipeline, user=request.user, **form.cleaned_data)
    except ApplicationError as error:
        return _render_pipeline_form(request, context, _service_error(error))
    messages.success(request, "Pipeline saved.")
    return redirect("pipeline-detail", slug=slug, pipeline=pipeline.slug)


def _pipeline_detail_page(request, pipeline, repository_form=None, status: int = 200):
    role = user_role(request.user, pipeline.project)
    can_manage = role >= Role.MAINTAINER
    if can_manage and repository_form is None:
        repository_form = RepositoryForm(
            initial={
                "repository_url": pipeline.repository_url,
                "repository_credential": pipeline.repository_credential,
            },
            credentials=credential_names_for_checkout(pipeline.project),
        )
    versions = Paginator(pipeline_version_list(pipeline), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "process/pipeline_detail.html",
        {
            "project": pipeline.project,
            "pipeline": pipeline,
            "version": pipeline.current_version,
            "listing": yaml_listing(pipeline.current_yaml),
            "page": versions,
            "can_edit": role >= Role.DEVELOPER,
            "can_manage": can_manage,
            "repository_form": repository_form if can_manage else None,
            "metric_charts": pipeline_metric_charts(pipeline_id=pipeline.id),
        },
        status=status,
    )


@login_required
def pipeline_detail(request, slug, pipeline):
    return _pipeline_detail_page(request, pipeline_get_for_user(request.user, slug, pipeline))


@login_required
@require_POST
def pipeline_repository(request, slug, pipeline):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    require_role(request.user, pipeline.project, Role.MAINTAINER)
    form = RepositoryForm(request.POST, credentials=credential_names_for_checkout(pipeline.project))
    if not form.is_valid():
        return _pipeline_detail_page(request, pipeline, form, status=400)
    try:
        services.pipeline_repository_update(pipeline=pipeline, user=request.user, **form.cleaned_data)
    except ApplicationError as error:
        form_add_error(form, _service_error(error))
        pipeline.refresh_from_db()
        return _pipeline_detail_page(request, pipeline, form, status=error_status(error))
    messages.success(request, "Repository saved.")
    return redirect("pipeline-detail", slug=slug, pipeline=pipeline.slug)


def _set_archived(request, slug, pipeline, archive: bool):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    change = services.pipeline_archive if archive else services.pipeline_restore
    change(pipeline=pipeline, user=request.user)
    messages.success(request, f"Pipeline {pipeline.name} {'archived' if archive else 'restored'}.")
    return redirect("pipeline-detail", slug=slug, pipeline=pipeline.slug)


@login_required
@require_POST
def pipeline_archive(request, slug, pipeline):
    return _set_archived(request, slug, pipeline, archive=True)


@login_required
@require_POST
def pipeline_restore(request, slug, pipeline):
    return _set_archived(request, slug, pipeline, archive=False)


@login_required
def version_detail(request, slug, pipeline, number):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    version = pipeline_version_get(pipeline, number)
    return render(
        request,
        "process/version_detail.html",
        {
            "project": pipeline.project,
            "pipeline": pipeline,
            "version": version,
            "listing": yaml_listing(version.yaml),
        },
    )


def _number(value, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@login_required
def version_diff(request, slug, pipeline):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    latest = pipeline.current_version.number if pipeline.current_version else 1
    to_number = _number(request.GET.get("to"), latest)
    from_number = _number(request.GET.get("from"), max(to_number - 1, 1))
    first = pipeline_version_get(pipeline, from_number)
    second = pipeline_version_get(pipeline, to_number)
    return render(
        request,
        "process/version_diff.html",
        {
            "project": pipeline.project,
            "pipeline": pipeline,
            "first": first,
            "second": second,
            "numbers": list(pipeline_version_list(pipeline).values_list("number", flat=True)),
            "lines": diff_lines(pipeline_version_diff(first, second)),
        },
    )
