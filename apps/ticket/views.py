"""Pages of a project's credentials: the list (every member sees names), creating one, and a
credential's page (managers: edit, replace the value, delete, audit trail, uses).

No page ever renders a value: forms for values are empty password inputs or textareas.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.choices import Role
from apps.core.errors import ApplicationError
from apps.core.forms import form_add_error
from apps.core.permissions import has_role, require_role
from apps.core.selectors import project_get_for_user
from apps.ticket import selectors, services
from apps.ticket.choices import CredentialType
from apps.ticket.forms import CredentialCreateForm, CredentialEditForm, CredentialReplaceForm

HISTORY_SIZE = 50


@login_required
def credential_list(request, slug):
    project = project_get_for_user(request.user, slug)
    can_manage = has_role(request.user, project, Role.MAINTAINER)
    context = {
        "project": project,
        "credentials": selectors.credential_list(project),
        "shared_here": selectors.credential_shared_with_project(project),
        "can_manage": can_manage,
        "events": selectors.project_credential_events(project)[:20] if can_manage else [],
        "types": CredentialType.choices,
    }
    return render(request, "ticket/credential_list.html", context)


@login_required
def credential_create(request, slug):
    project = project_get_for_user(request.user, slug)
    services.require_manager(request.user, project)
    type = request.GET.get("type") or request.POST.get("type")
    if type not in CredentialType.values:
        context = {"project": project, "types": CredentialType.choices}
        return render(request, "ticket/credential_type.html", context)
    form = CredentialCreateForm(request.POST or None, type=type)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            credential = services.credential_create(
                project=project,
                user=request.user,
                name=data["name"],
                type=type,
                description=data["description"],
                values=form.values(),
                shared_with=data["shared_with"],
            )
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(
                request, f"Credential {credential.name} created. Its value cannot be shown again."
            )
            return redirect("credential-detail", slug=slug, name=credential.name)
    context = {"project": project, "form": form, "type": CredentialType(type)}
    return render(request, "ticket/credential_create.html", context)


@login_required
def credential_detail(request, slug, name):
    credential = selectors.credential_get_for_user(request.user, slug, name)
    project = credential.project
    require_role(request.user, project, Role.MAINTAINER)
    shared = ", ".join(credential.shared_with.values_list("slug", flat=True))
    initial = {"description": credential.description, "shared_with": shared}
    form = CredentialEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.credential_update(credential=credential, user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Credential {credential.name} saved.")
            return redirect("credential-detail", slug=slug, name=credential.name)
    context = {
        "project": project,
        "credential": credential,
        "form": form,
        "replace_form": CredentialReplaceForm(type=credential.type),
        "events": selectors.credential_events(credential)[:HISTORY_SIZE],
        "uses": selectors.credential_uses(credential)[:HISTORY_SIZE],
    }
    return render(request, "ticket/credential_detail.html", context)


@login_required
@require_POST
def credential_replace(request, slug, name):
    credential = selectors.credential_get_for_user(request.user, slug, name)
    services.require_manager(request.user, credential.project)
    form = CredentialReplaceForm(request.POST, type=credential.type)
    if form.is_valid():
        try:
            services.credential_replace_value(credential=credential, user=request.user, values=form.values())
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, f"The value of {credential.name} was replaced.")
    else:
        messages.error(request, "Every required field of the new value must be filled.")
    return redirect("credential-detail", slug=slug, name=credential.name)


@login_required
@require_POST
def credential_delete(request, slug, name):
    credential = selectors.credential_get_for_user(request.user, slug, name)
    services.credential_delete(credential=credential, user=request.user)
    messages.success(request, f"Credential {name} deleted.")
    return redirect("credential-list", slug=slug)
