"""Helpers for tests of any app: users and a project with one member of every role."""

from django.contrib.auth import get_user_model

from apps.core import services
from apps.core.choices import Role

MEMBER_ROLES = [Role.OWNER, Role.MAINTAINER, Role.DEVELOPER, Role.VIEWER]


def make_user(username: str, **fields):
    user = get_user_model().objects.create(username=username, **fields)
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def make_team(slug: str = "acme") -> tuple:
    """A project whose members are users named after their roles, plus an outsider and a superuser.

    Returns (project, users) where users maps "owner", "maintainer", "developer", "viewer",
    "outsider" and "superuser" to users.
    """
    owner = make_user(f"{slug}-owner")
    project = services.project_create(user=owner, slug=slug, name=slug.title(), description="Test project")
    users = {Role.OWNER.value: owner}
    for role in MEMBER_ROLES[1:]:
        users[role.value] = make_user(f"{slug}-{role.value}")
        services.member_add(project=project, user=owner, username=users[role.value].username, role=role)
    users["outsider"] = make_user(f"{slug}-outsider")
    users["superuser"] = make_user(f"{slug}-root", is_superuser=True, is_staff=True)
    return project, users
