"""Pages of a project's build machines: the agents table, adding a machine, editing agents and node groups.

Members see the pages; maintainers and owners change things (the services check it). Application
errors raised here become error pages through the core middleware.
"""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.choices import Role
from apps.core.errors import ApplicationError
from apps.core.forms import form_add_error
from apps.core.permissions import has_role
from apps.core.selectors import project_get_for_user
from apps.environment import selectors, services
from apps.environment.filtersets import AgentFilterSet, NodeGroupFilterSet
from apps.environment.forms import AgentForm, NodeGroupForm, RegistrationTokenForm
from apps.environment.install import install_command, server_base_url

PAGE_SIZE = 50


def _can_manage(user, project) -> bool:
    """Whether to show editing controls; the services enforce the same rule."""
    if project is None:
        return user.is_superuser
    return has_role(user, project, Role.MAINTAINER)


@login_required
def agent_list(request, slug):
    project = project_get_for_user(request.user, slug)
    agents = AgentFilterSet(request.GET, queryset=selectors.agents_for_project(project), request=request)
    page = Paginator(agents.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    current_jobs = selectors.agent_current_jobs(page.object_list)
    rows = [(agent, current_jobs.get(agent.pk, [])) for agent in page.object_list]
    active_tokens = selectors.registration_token_list(project).filter(used_at__isnull=True)
    context = {
        "project": project,
        "filter": agents,
        "page": page,
        "rows": rows,
        "can_manage": _can_manage(request.user, project),
        "active_tokens": [token for token in active_tokens if token.state == "active"],
    }
    return render(request, "environment/agent_list.html", context)


@login_required
def agent_add(request, slug):
    project = project_get_for_user(request.user, slug)
    services.require_manager(request.user, project)
    form = RegistrationTokenForm(request.POST or None, project=project)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            token, plaintext = services.registration_token_create(
                project=project,
                user=request.user,
                labels=data["labels"],
                slots=data["slots"],
                node_groups=data["node_groups"],
                expires_in=timedelta(hours=data["expires_in_hours"]),
            )
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            command = install_command(server_base_url(request), plaintext)
            context = {"project": project, "token": token, "command": command}
            return render(request, "environment/agent_add_command.html", context)
    return render(request, "environment/agent_add.html", {"project": project, "form": form})


@login_required
def agent_detail(request, slug, agent_id):
    project = project_get_for_user(request.user, slug)
    agent = selectors.agent_get_for_user(request.user, slug, agent_id)
    if request.method == "POST":
        services.require_manager(request.user, agent.project)
    initial = {
        "name": agent.name,
        "labels": agent.labels,
        "slots": agent.slots,
        "enabled": agent.enabled,
        "node_groups": list(agent.node_groups.all()),
    }
    form = AgentForm(request.POST or None, initial=initial, project=agent.project)
    if request.method == "POST" and form.is_valid():
        try:
            services.agent_update(agent=agent, user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Agent {agent.name} saved.")
            return redirect("agent-detail", slug=slug, agent_id=agent.pk)
    context = {
        "project": project,
        "agent": agent,
        "form": form,
        "can_manage": _can_manage(request.user, agent.project),
        "job_environment": selectors.agent_job_environment(agent),
        "current_jobs": selectors.agent_current_jobs([agent]).get(agent.pk, []),
    }
    return render(request, "environment/agent_detail.html", context)


@login_required
@require_POST
def agent_delete(request, slug, agent_id):
    agent = selectors.agent_get_for_user(request.user, slug, agent_id)
    services.agent_delete(agent=agent, user=request.user)
    messages.success(request, f"Agent {agent.name} deleted; its machine can no longer connect.")
    return redirect("agent-list", slug=slug)


@login_required
@require_POST
def registration_token_delete(request, slug, token_id):
    token = selectors.registration_token_get_for_user(request.user, slug, token_id)
    services.registration_token_delete(token=token, user=request.user)
    messages.success(request, f"Registration token {token.hint}… revoked.")
    return redirect("agent-list", slug=slug)


@login_required
def node_group_list(request, slug):
    project = project_get_for_user(request.user, slug)
    groups = NodeGroupFilterSet(request.GET, queryset=selectors.node_group_list(project), request=request)
    page = Paginator(groups.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "project": project,
        "filter": groups,
        "page": page,
        "can_manage": _can_manage(request.user, project),
    }
    return render(request, "environment/node_group_list.html", context)


@login_required
def node_group_create(request, slug):
    project = project_get_for_user(request.user, slug)
    services.require_manager(request.user, project)
    form = NodeGroupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = services.node_group_create(project=project, user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Node group {group.name} created.")
            return redirect("node-group-list", slug=slug)
    return render(
        request, "environment/node_group_form.html", {"project": project, "form": form, "creating": True}
    )


@login_required
def node_group_detail(request, slug, node_group_id):
    group = selectors.node_group_get_for_user(request.user, slug, node_group_id)
    project = group.project
    if request.method == "POST":
        services.require_manager(request.user, project)
    initial = {
        "name": group.name,
        "env_type": group.env_type,
        "description": group.description,
        "env": group.env,
    }
    form = NodeGroupForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.node_group_update(node_group=group, user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            form_add_error(form, error)
        else:
            messages.success(request, f"Node group {group.name} saved.")
            return redirect("node-group-list", slug=slug)
    context = {
        "project": project,
        "group": group,
        "form": form,
        "can_manage": _can_manage(request.user, project),
        "agents": group.agents.order_by("name"),
    }
    return render(request, "environment/node_group_form.html", context)


@login_required
@require_POST
def node_group_delete(request, slug, node_group_id):
    group = selectors.node_group_get_for_user(request.user, slug, node_group_id)
    services.node_group_delete(node_group=group, user=request.user)
    messages.success(request, f"Node group {group.name} deleted.")
    return redirect("node-group-list", slug=slug)
