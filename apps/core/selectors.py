"""Reads of projects and members, always scoped to what the asking user may see."""

from django.db.models import OuterRef, QuerySet, Subquery

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
