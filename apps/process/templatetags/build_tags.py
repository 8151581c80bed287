"""Build pieces of other pages and build filters.

`{% pipeline_run_form pipeline %}` and `{% pipeline_builds pipeline %}` on the pipeline page,
`{% recent_builds %}` on the dashboard; `|duration`, `|elapsed`, `|branch`, `|actor` format builds.
"""

from django import template
from django.core.paginator import Paginator

from apps.core.choices import Role
from apps.core.permissions import has_role
from apps.process.choices import Status
from apps.process.filtersets import BuildFilterSet
from apps.process.forms_builds import run_form_for
from apps.process.selectors_builds import (
    BUILD_EVENTS,
    build_actor,
    build_list,
    build_list_recent_for_user,
    duration_seconds,
    trigger_branch,
    trigger_tag,
)

register = template.Library()

BUILDS_PER_PAGE = 25
RECENT_BUILDS = 10


@register.filter
def duration(seconds) -> str:
    """`12s`, `3m 05s`, `2h 04m`; `—` when unknown."""
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


@register.filter
def elapsed(run) -> str:
    """The duration of a build, stage, job or step (running ones: until now)."""
    return duration(duration_seconds(run.started_at, run.finished_at))


@register.filter
def branch(build) -> str:
    return trigger_branch(build.trigger) or trigger_tag(build.trigger)


@register.filter
def actor(build) -> str:
    return build_actor(build)


@register.inclusion_tag("process/build_run_form.html", takes_context=True)
def pipeline_run_form(context, pipeline):
    request = context["request"]
    can_run = has_role(request.user, pipeline.project, Role.DEVELOPER) and not pipeline.is_archived
    form, reason = run_form_for(pipeline) if can_run else (None, "")
    return {
        "project": pipeline.project,
        "pipeline": pipeline,
        "can_run": can_run,
        "form": form,
        "reason": reason,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("process/build_list.html", takes_context=True)
def pipeline_builds(context, pipeline):
    request = context["request"]
    builds = BuildFilterSet(request.GET, queryset=build_list(pipeline))
    return {
        "project": pipeline.project,
        "pipeline": pipeline,
        "filter": builds,
        "statuses": Status.choices,
        "events": [(event, event) for event in BUILD_EVENTS],
        "builds": Paginator(builds.qs, BUILDS_PER_PAGE).get_page(request.GET.get("builds_page")),
        "query": request.GET.copy(),
    }


@register.inclusion_tag("process/build_recent.html", takes_context=True)
def recent_builds(context):
    return {"builds": build_list_recent_for_user(context["request"].user, limit=RECENT_BUILDS)}


@register.simple_tag(takes_context=True)
def builds_page_query(context, number) -> str:
    """The current query string with `builds_page` set to `number`."""
    query = context["query"].copy()
    query["builds_page"] = number
    return query.urlencode()
