"""`{% pipeline_triggers pipeline %}`: the pipeline page's Triggers section (schedules, remote URL)."""

from django import template

from apps.core.choices import Role
from apps.core.permissions import has_role
from apps.process.api.remote import TOKEN_HEADER
from apps.process.services.remote import remote_token_get
from apps.process.services.schedules import cron_upcoming, pipeline_triggers, schedule_list
from apps.process.views_triggers import remote_trigger_url

register = template.Library()

UPCOMING_RUNS = 3


def schedule_rows(pipeline) -> list[dict]:
    rows = []
    for schedule in schedule_list(pipeline):
        later = cron_upcoming(schedule.cron, schedule.next_run_at, UPCOMING_RUNS - 1)
        rows.append({"schedule": schedule, "upcoming": [schedule.next_run_at, *later]})
    return rows


@register.inclusion_tag("process/_pipeline_triggers.html", takes_context=True)
def pipeline_triggers_section(context, pipeline):
    request = context["request"]
    triggers = pipeline_triggers(pipeline)
    return {
        "project": pipeline.project,
        "pipeline": pipeline,
        "schedules": schedule_rows(pipeline),
        "remote_enabled": bool(triggers.get("remote")),
        "remote_url": remote_trigger_url(request, pipeline),
        "remote_token": remote_token_get(pipeline),
        "header": TOKEN_HEADER,
        "can_manage": has_role(request.user, pipeline.project, Role.MAINTAINER),
        "csrf_token": context.get("csrf_token"),
    }
