"""Reads of projects and members, always scoped to what the asking user may see."""

from django.db.models import OuterRef, QuerySet, Subquery

from apps.core.choices import Role
from apps.core.errors import NotFound
from apps.core.models import Membership, Project


def project_list_for_user(user) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    my_role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    projects = Project.objects.select_related("created_by").annotate(my_role=Subquery(my_role))
    if user.is_superuser:
        return projects
    return projects.filter(memberships__user=user)


def project_get_for_user(user, slug: str) -> Project:
    project = project_list_for_user(user).filter(slug=slug).first()
    if project is None:
        raise NotFound("Project not found.")
    return project


def membership_list(project: Project) -> QuerySet[Membership]:
    return Membership.objects.filter(project=project).select_related("user").order_by("user__username")


def membership_get(project: Project, username: str) -> Membership:
    membership = membership_list(project).filter(user__username=username).first()
    if membership is None:
        raise NotFound(f"{username} is not a member of {project.slug}.")
    return membership


def listed_members(project: Project, names: list[str], *, default_role: Role = Role.MAINTAINER) -> list:
    """The members `names` stand for (see `apps.core.permissions.user_listed`): users by name, and
    every member holding (or outranking) a `role:<role>`; an empty list means `default_role`."""
    wanted_roles = [name.removeprefix("role:") for name in names if name.startswith("role:")]
    lowest = min((Role(role) for role in wanted_roles if role in Role.values), default=None)
    if not names:
        lowest = default_role
    users = []
    for membership in membership_list(project):
        by_name = membership.user.username in names
        by_role = lowest is not None and Role(membership.role) >= lowest
        if (by_name or by_role) and membership.user.is_active:
            users.append(membership.user)
    return users
