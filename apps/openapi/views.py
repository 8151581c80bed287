"""Pages: the caller's tokens, a project's bot tokens, a pipeline's webhook and its deliveries."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.choices import Role
from apps.core.permissions import require_role
from apps.core.selectors import project_get_for_user
from apps.openapi import selectors, services
from apps.openapi.api.views import webhook_url
from apps.openapi.forms import TokenForm, WebhookForm
from apps.openapi.webhooks.services import webhook_settings_update
from apps.process.selectors import pipeline_get_for_user


def _token_page(request, *, tokens, form, created=None, project=None):
    context = {"tokens": tokens, "form": form, "created": created, "project": project}
    return render(request, "openapi/tokens.html", context)


@never_cache
@login_required
def token_list(request):
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        created = services.token_create(user=request.user, **form.token_fields())
        form = TokenForm()
    tokens = selectors.token_list_for_user(request.user)
    return _token_page(request, tokens=tokens, form=form, created=created)


@login_required
@require_POST
def token_revoke(request, token_id):
    token = selectors.token_get_for_user(request.user, token_id)
    services.token_revoke(token=token, user=request.user)
    return redirect("token-list")


@never_cache
@login_required
def project_token_list(request, slug):
    project = project_get_for_user(request.user, slug)
    tokens = selectors.project_token_list(project=project, user=request.user)
    form = TokenForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        created = services.project_token_create(project=project, user=request.user, **form.token_fields())
        form = TokenForm()
    return _token_page(request, tokens=tokens, form=form, created=created, project=project)


@login_required
@require_POST
def project_token_revoke(request, slug, token_id):
    project = project_get_for_user(request.user, slug)
    token = selectors.project_token_get(project=project, user=request.user, token_id=token_id)
    services.token_revoke(token=token, user=request.user)
    return redirect("project-token-list", slug=slug)


@never_cache
@login_required
def pipeline_webhook(request, slug, pipeline):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    require_role(request.user, pipeline.project, Role.MAINTAINER)
    settings_row = selectors.webhook_settings_get(pipeline)
    initial = {"repository_url": settings_row.repository_url if settings_row else ""}
    form = WebhookForm(
        request.POST or None, initial=initial, pipeline_repository=pipeline.repository_url
    )
    secret = None
    if request.method == "POST" and form.is_valid():
        settings_row, secret = webhook_settings_update(
            pipeline=pipeline,
            user=request.user,
            repository_url=form.cleaned_data["repository_url"],
            regenerate=form.cleaned_data["regenerate_secret"],
        )
        form = WebhookForm(
            initial={"repository_url": settings_row.repository_url},
            pipeline_repository=pipeline.repository_url,
        )
    deliveries = Paginator(selectors.delivery_list(pipeline), 50).get_page(request.GET.get("page"))
    context = {
        "project": pipeline.project,
        "pipeline": pipeline,
        "settings": settings_row,
        "secret": secret,
        "form": form,
        "url": webhook_url(request, pipeline),
        "page": deliveries,
    }
    return render(request, "openapi/webhook.html", context)
