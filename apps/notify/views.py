"""Pages: a pipeline's notification settings and its deliveries (maintainers), and "My notifications",
the signed-in user's subscriptions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from apps.core.api.exceptions import error_status
from apps.core.errors import ApplicationError
from apps.core.forms import form_add_error
from apps.core.selectors import project_get_for_user, project_list_for_user
from apps.notify import selectors, services
from apps.notify.forms import NotificationSettingForm, SubscriptionForm
from apps.process.selectors import pipeline_get, pipeline_get_for_user


def _managed_pipeline(request, slug: str, pipeline: str):
    pipeline = pipeline_get_for_user(request.user, slug, pipeline)
    selectors.pipeline_require_manager(request.user, pipeline)
    return pipeline


def _settings_page(request, pipeline, form, *, editing=None, status: int = 200):
    context = {
        "project": pipeline.project,
        "pipeline": pipeline,
        "settings_rows": selectors.notification_setting_list(pipeline),
        "notices": selectors.pipeline_notices(pipeline),
        "form": form,
        "editing": editing,
    }
    return render(request, "notify/pipeline_settings.html", context, status=status)


def _save(request, pipeline, form, setting=None):
    """Create or change a setting from a valid form; the page again with the error when refused."""
    fields = form.setting_fields()
    try:
        if setting is None:
            services.notification_setting_create(
                pipeline=pipeline, user=request.user, **{**fields, "secret": fields["secret"] or ""}
            )
        else:
            services.notification_setting_update(setting=setting, user=request.user, **fields)
    except ApplicationError as error:
        form_add_error(form, error)
        return _settings_page(request, pipeline, form, editing=setting, status=error_status(error))
    messages.success(request, "Notification saved.")
    return redirect("pipeline-notifications", slug=pipeline.project.slug, pipeline=pipeline.slug)


@never_cache
@login_required
def pipeline_notifications(request, slug, pipeline):
    pipeline = _managed_pipeline(request, slug, pipeline)
    form = NotificationSettingForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            return _save(request, pipeline, form)
        return _settings_page(request, pipeline, form, status=400)
    return _settings_page(request, pipeline, form)


@never_cache
@login_required
def pipeline_notification_edit(request, slug, pipeline, setting_id):
    pipeline = _managed_pipeline(request, slug, pipeline)
    setting = selectors.notification_setting_get(pipeline, setting_id)
    initial = {"events": setting.events, "channel": setting.channel, "target": setting.target}
    form = NotificationSettingForm(request.POST or None, initial={**initial, "enabled": setting.enabled})
    if request.method == "POST":
        if form.is_valid():
            return _save(request, pipeline, form, setting)
        return _settings_page(request, pipeline, form, editing=setting, status=400)
    return _settings_page(request, pipeline, form, editing=setting)


@login_required
@require_POST
def pipeline_notification_delete(request, slug, pipeline, setting_id):
    pipeline = _managed_pipeline(request, slug, pipeline)
    services.notification_setting_delete(
        setting=selectors.notification_setting_get(pipeline, setting_id), user=request.user
    )
    messages.success(request, "Notification removed.")
    return redirect("pipeline-notifications", slug=slug, pipeline=pipeline.slug)


@never_cache
@login_required
def pipeline_notification_deliveries(request, slug, pipeline):
    pipeline = _managed_pipeline(request, slug, pipeline)
    page = Paginator(selectors.delivery_list(pipeline), 50).get_page(request.GET.get("page"))
    context = {"project": pipeline.project, "pipeline": pipeline, "page": page}
    return render(request, "notify/deliveries.html", context)


@never_cache
@login_required
def my_notifications(request):
    form = SubscriptionForm(
        request.POST or None,
        projects=project_list_for_user(request.user).order_by("slug"),
        pipelines=selectors.subscribable_pipelines(request.user),
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            project_slug, pipeline_slug = form.project_and_pipeline()
            project = project_get_for_user(request.user, project_slug)
            pipeline = pipeline_get(project, pipeline_slug) if pipeline_slug else None
            services.subscription_save(
                user=request.user, project=project, pipeline=pipeline, events=form.cleaned_data["events"]
            )
            messages.success(request, "Subscription saved.")
            return redirect("my-notifications")
    context = {"subscriptions": selectors.subscription_list_for_user(request.user), "form": form}
    return render(request, "notify/my_notifications.html", context, status=status)


@login_required
@require_POST
def subscription_delete(request, subscription_id):
    subscription = selectors.subscription_get_for_user(request.user, subscription_id)
    services.subscription_delete(subscription=subscription, user=request.user)
    messages.success(request, "Subscription removed.")
    return redirect("my-notifications")
