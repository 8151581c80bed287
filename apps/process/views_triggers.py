"""Pages of a pipeline's triggers: generating the token of its remote-trigger URL (shown once)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.process.api.remote import TOKEN_HEADER
from apps.process.selectors import pipeline_get_for_user
from apps.process.services.remote import remote_token_generate
from apps.process.services.schedules import pipeline_triggers


def remote_trigger_url(request, pipeline) -> str:
    names = {"project_slug": pipeline.project.slug, "pipeline_slug": pipeline.slug}
    return request.build_absolute_uri(reverse("remote-trigger", kwargs=names))


@never_cache
@login_required
@require_POST
def remote_token_create(request, slug, pipeline):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    token, plaintext = remote_token_generate(pipeline=pipeline, user=request.user)
    context = {
        "project": pipeline.project,
        "pipeline": pipeline,
        "token": token,
        "plaintext": plaintext,
        "header": TOKEN_HEADER,
        "remote_url": remote_trigger_url(request, pipeline),
        "remote_enabled": bool(pipeline_triggers(pipeline).get("remote")),
    }
    return render(request, "process/remote_token.html", context)
