"""Pages of the core app: the dashboard, project creation and member management."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core import services
from apps.core.errors import ApplicationError, Conflict, ValidationFailed
from apps.core.filtersets import ProjectFilterSet
from apps.core.forms import MemberAddForm, MemberRoleForm, ProjectForm, form_add_error
from apps.core.selectors import project_get_for_user, project_list_for_user


@login_required
def dashboard(request):
    projects = ProjectFilterSet(request.GET, queryset=project_list_for_user(request.user), request=request)
    page = Paginator(projects.qs, 50).get_page(request.GET.get("page"))
    return render(request, "core/dashboard.html", {"filter": projects, "page": page})


@login_required
def project_create(request):
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Project {project.name} created; you are its owner.")
            return redirect("project-detail", slug=project.slug)
    return render(request, "core/project_form.html", {"form": form})


def _member_change(request, slug: str, form: forms.Form, change) -> HttpResponse:
    """Runs a member change and goes back to the project page with its outcome as a message."""
    if not form.is_valid():
        messages.error(request, " ".join(" ".join(errors) for errors in form.errors.values()))
        return redirect("project-detail", slug=slug)
    try:
        messages.success(request, change(**form.cleaned_data))
    except (ValidationFailed, Conflict) as error:
        messages.error(request, error.message)
    return redirect("project-detail", slug=slug)


@login_required
@require_POST
def member_add(request, slug):
    project = project_get_for_user(request.user, slug)

    def add(username, role):
        services.member_add(project=project, user=request.user, username=username, role=role)
        return f"{username} added as {role}."

    return _member_change(request, slug, MemberAddForm(request.POST), add)


@login_required
@require_POST
def member_change_role(request, slug, username):
    project = project_get_for_user(request.user, slug)

    def change(role):
        services.member_change_role(project=project, user=request.user, username=username, role=role)
        return f"{username} is now {role}."

    return _member_change(request, slug, MemberRoleForm(request.POST), change)


@login_required
@require_POST
def member_remove(request, slug, username):
    project = project_get_for_user(request.user, slug)

    def remove():
        services.member_remove(project=project, user=request.user, username=username)
        return f"{username} removed from {project.name}."

    response = _member_change(request, slug, forms.Form(request.POST), remove)
    left = username == request.user.username and not project_list_for_user(request.user).filter(pk=project.pk)
    return redirect("dashboard") if left else response
