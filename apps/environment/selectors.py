"""Reads of build machines, node groups and registration tokens, scoped to what the asking user may see.

A project sees its own agents and the shared ones (no project); a non-member sees nothing (NotFound).
"""

from django.apps import apps
from django.db.models import Count, Q, QuerySet

from apps.core.errors import NotFound
from apps.core.models import Project
from apps.core.selectors import project_get_for_user, project_list_for_user
from apps.environment.models import Agent, NodeGroup, RegistrationToken


def agents_for_project(project: Project) -> QuerySet[Agent]:
    """The agents that may run the project's jobs: its own and the shared ones."""
    return (
        Agent.objects.filter(Q(project=project) | Q(project__isnull=True))
        .select_related("project")
        .prefetch_related("node_groups")
    )


def agent_list_for_user(user, *, project: Project | None = None) -> QuerySet[Agent]:
    if project is not None:
        return agents_for_project(project)
    if not user.is_authenticated:
        return Agent.objects.none()
    visible = Q(project__isnull=True) | Q(project__in=project_list_for_user(user).values("pk"))
    return Agent.objects.filter(visible).select_related("project").prefetch_related("node_groups")


def agent_get_for_user(user, project_slug: str, agent_id) -> Agent:
    project = project_get_for_user(user, project_slug)
    agent = agents_for_project(project).filter(pk=_as_id(agent_id)).first()
    if agent is None:
        raise NotFound("Agent not found.")
    return agent


def agent_job_environment(agent: Agent) -> dict[str, str]:
    """The variables of the agent's node groups, merged in name order (a later group wins a clash)."""
    env: dict[str, str] = {}
    for group in sorted(agent.node_groups.all(), key=lambda group: group.name):
        env.update(group.env)
    return env


def agent_pool_names(agent: Agent) -> set[str]:
    """The names of the agent's node groups: the pools (`runs-on: {pool: ...}`) it may serve."""
    return {group.name for group in agent.node_groups.all()}


def agent_current_jobs(agents) -> dict[int, list[str]]:
    """Jobs each agent runs now, by agent id, as "project/pipeline #number job" labels."""
    job_runs = apps.get_model("process", "JobRun").objects.filter(agent__in=list(agents), status="running")
    current: dict[int, list[str]] = {}
    for job in job_runs.select_related("build__pipeline__project").order_by("id"):
        pipeline = job.build.pipeline
        current.setdefault(job.agent_id, []).append(
            f"{pipeline.project.slug}/{pipeline.slug} #{job.build.number} {job.name}"
        )
    return current


def node_group_list(project: Project) -> QuerySet[NodeGroup]:
    return (
        NodeGroup.objects.filter(project=project)
        .select_related("project")
        .annotate(agent_count=Count("agents"))
        .order_by("name")
    )


def node_group_get_for_user(user, project_slug: str, node_group_id) -> NodeGroup:
    project = project_get_for_user(user, project_slug)
    group = node_group_list(project).filter(pk=_as_id(node_group_id)).first()
    if group is None:
        raise NotFound("Node group not found.")
    return group


def registration_token_list(project: Project) -> QuerySet[RegistrationToken]:
    return (
        RegistrationToken.objects.filter(project=project)
        .select_related("project", "created_by", "agent")
        .prefetch_related("node_groups")
    )


def registration_token_get_for_user(user, project_slug: str, token_id) -> RegistrationToken:
    project = project_get_for_user(user, project_slug)
    token = registration_token_list(project).filter(pk=_as_id(token_id)).first()
    if token is None:
        raise NotFound("Registration token not found.")
    return token


def _as_id(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as error:
        raise NotFound("Not found.") from error
