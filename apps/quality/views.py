"""Quality pages of a project: its rules (every member reads them; maintainers and owners create,
edit and delete), a rule's page with every evaluation of it, and `build_checks_context`, what the
build page's Quality section (`quality/_build_checks.html`) shows.

Application errors raised here (404 for non-members, 403 for a role too low) become error pages
through the core middleware; the services check the role again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.choices import Role
from apps.core.errors import ApplicationError
from apps.core.forms import form_add_error
from apps.core.permissions import has_role, require_role
from apps.core.selectors import project_get_for_user
from apps.process.selectors import pipeline_list_for_user
from apps.quality import rules
from apps.quality.filtersets import GateCheckFilterSet, QualityRuleFilterSet
from apps.quality.forms import QualityRuleForm
from apps.quality.selectors_rules import build_checks, rule_checks, rule_get, rule_list, with_stage_names

PAGE_SIZE = 50


def _pipeline_slugs(user, project) -> list[str]:
    return list(pipeline_list_for_user(user, project=project).values_list("slug", flat=True))


def build_checks_context(build) -> dict:
    """The context of `quality/_build_checks.html`: a build's gate checks, every attempt."""
    checks = with_stage_names(build_checks(build))
    return {
        "build": build,
        "checks": checks,
        "several_attempts": len({check.build_attempt for check in checks}) > 1,
    }


@login_required
def rule_list_page(request, slug):
    project = project_get_for_user(request.user, slug)
    found = QualityRuleFilterSet(request.GET, queryset=rule_list(project), request=request)
    page = Paginator(found.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "filter": found,
        "page": page,
        "can_manage": has_role(request.user, project, Role.MAINTAINER),
    }
    return render(request, "quality/rule_list.html", context)


def _render_form(request, project, form, rule=None):
    context = {"project": project, "form": form, "rule": rule}
    return render(request, "quality/rule_form.html", context, status=400 if form.errors else 200)


@login_required
def rule_create_page(request, slug):
    project = project_get_for_user(request.user, slug)
    require_role(request.user, project, Role.MAINTAINER)
    form = QualityRuleForm(request.POST or None, pipeline_slugs=_pipeline_slugs(request.user, project))
    if request.method == "POST" and form.is_valid():
        try:
            rule = rules.rule_create(project=project, user=request.user, **form.rule_fields())
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Quality rule {rule.name} created.")
            return redirect("quality-rule-detail", slug=slug, rule_id=rule.id)
    return _render_form(request, project, form)


@login_required
def rule_detail_page(request, slug, rule_id):
    project = project_get_for_user(request.user, slug)
    rule = rule_get(project, rule_id)
    checks = GateCheckFilterSet(request.GET, queryset=rule_checks(rule), request=request)
    page = Paginator(checks.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "rule": rule,
        "filter": checks,
        "page": page,
        "checks": with_stage_names(page.object_list),
        "can_manage": has_role(request.user, project, Role.MAINTAINER),
    }
    return render(request, "quality/rule_detail.html", context)


@login_required
def rule_edit_page(request, slug, rule_id):
    project = project_get_for_user(request.user, slug)
    require_role(request.user, project, Role.MAINTAINER)
    rule = rule_get(project, rule_id)
    form = QualityRuleForm(
        request.POST or None,
        initial=QualityRuleForm.initial_for(rule),
        pipeline_slugs=_pipeline_slugs(request.user, project),
    )
    if request.method == "POST" and form.is_valid():
        try:
            rules.rule_update(rule=rule, user=request.user, **form.rule_fields())
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Quality rule {form.cleaned_data['name']} saved.")
            return redirect("quality-rule-detail", slug=slug, rule_id=rule.id)
    return _render_form(request, project, form, rule)


@login_required
@require_POST
def rule_delete_page(request, slug, rule_id):
    project = project_get_for_user(request.user, slug)
    rule = rule_get(project, rule_id)
    rules.rule_delete(rule=rule, user=request.user)
    messages.success(request, f"Quality rule {rule.name} deleted; its past checks stay on their builds.")
    return redirect("quality-rule-list", slug=slug)
