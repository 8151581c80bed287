"""Who may do what in a project: roles are looked up here and nowhere else.

A non-member is told "not found" so that a project's existence is never revealed; a member whose
role is too low is told "permission denied". Superusers act as owners of every project.
"""

from apps.core.choices import Role
from apps.core.errors import NotFound, PermissionDenied
from apps.core.models import Membership, Project


def user_role(user, project: Project) -> Role | None:
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.OWNER
    role = Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    return Role(role) if role else None


def require_role(user, project: Project, role: Role) -> Role:
    actual = user_role(user, project)
    if actual is None:
        raise NotFound("Project not found.")
    if actual < role:
        raise PermissionDenied(f"This needs the {role.label.lower()} role or higher in {project.slug}.")
    return actual


def has_role(user, project: Project, role: Role) -> bool:
    actual = user_role(user, project)
    return actual is not None and actual >= role


def user_listed(user, project: Project, names: list[str], *, default_role: Role = Role.MAINTAINER) -> bool:
    """Whether `user` is one of `names`: a user name, or `role:<role>` held (or outranked) in the
    project. An empty list means members with `default_role` or higher."""
    if not names:
        return has_role(user, project, default_role)
    if user.username in names:
        return True
    roles = [name.removeprefix("role:") for name in names if name.startswith("role:")]
    return any(role in Role.values and has_role(user, project, Role(role)) for role in roles)
