"""Projects: roles, creation, scoping of reads and who may edit or delete."""

import pytest

from apps.core import services
from apps.core.choices import Role
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import Membership, Project
from apps.core.permissions import has_role, require_role, user_role
from apps.core.selectors import project_get_for_user, project_list_for_user
from apps.core.testing import make_team, make_user

pytestmark = pytest.mark.django_db


def test_roles_are_ordered_from_viewer_to_owner():
    assert Role.VIEWER < Role.DEVELOPER < Role.MAINTAINER < Role.OWNER
    assert Role.OWNER >= Role.MAINTAINER
    assert not Role.DEVELOPER >= Role.MAINTAINER
    assert "owner" >= Role.MAINTAINER
    assert max([Role.DEVELOPER, Role.OWNER, Role.VIEWER]) == Role.OWNER


def test_creator_becomes_owner():
    alice = make_user("alice")
    project = services.project_create(user=alice, slug="web-app", name="Web app")
    assert project.created_by == alice
    assert Membership.objects.get(project=project, user=alice).role == Role.OWNER
    assert user_role(alice, project) == Role.OWNER


@pytest.mark.parametrize("slug", ["a", "-lead", "UPPER", "under_score", "x" * 64, "sp ace"])
def test_bad_slugs_are_refused(slug):
    with pytest.raises(ValidationFailed) as caught:
        services.project_create(user=make_user("alice"), slug=slug, name="X")
    assert "slug" in caught.value.details
    assert not Project.objects.exists()


def test_duplicate_slug_is_a_conflict():
    services.project_create(user=make_user("alice"), slug="shared", name="One")
    with pytest.raises(Conflict):
        services.project_create(user=make_user("bob"), slug="shared", name="Two")


def test_members_see_their_projects_only():
    project, users = make_team("acme")
    other, _ = make_team("other")
    for role in ["owner", "maintainer", "developer", "viewer"]:
        assert list(project_list_for_user(users[role])) == [project]
        assert project_list_for_user(users[role]).get().my_role == role
    assert list(project_list_for_user(users["outsider"])) == []
    assert set(project_list_for_user(users["superuser"])) == {project, other}


def test_non_members_are_told_not_found():
    project, users = make_team()
    assert project_get_for_user(users["viewer"], project.slug) == project
    with pytest.raises(NotFound):
        project_get_for_user(users["outsider"], project.slug)
    with pytest.raises(NotFound):
        project_get_for_user(users["viewer"], "no-such-project")
    with pytest.raises(NotFound):
        require_role(users["outsider"], project, Role.VIEWER)


def test_require_role_checks_the_minimum():
    project, users = make_team()
    assert require_role(users["developer"], project, Role.DEVELOPER) == Role.DEVELOPER
    assert require_role(users["superuser"], project, Role.OWNER) == Role.OWNER
    with pytest.raises(PermissionDenied):
        require_role(users["viewer"], project, Role.DEVELOPER)
    assert has_role(users["maintainer"], project, Role.DEVELOPER)
    assert not has_role(users["outsider"], project, Role.VIEWER)


@pytest.mark.parametrize(
    "role, allowed", [("owner", True), ("maintainer", True), ("developer", False), ("viewer", False)]
)
def test_maintainers_and_owners_edit_the_project(role, allowed):
    project, users = make_team()
    if allowed:
        services.project_update(project=project, user=users[role], name="Renamed", description="New")
        project.refresh_from_db()
        assert (project.name, project.description) == ("Renamed", "New")
    else:
        with pytest.raises(PermissionDenied):
            services.project_update(project=project, user=users[role], name="Renamed")


@pytest.mark.parametrize("role", ["maintainer", "developer", "viewer"])
def test_only_owners_delete_the_project(role):
    project, users = make_team()
    with pytest.raises(PermissionDenied):
        services.project_delete(project=project, user=users[role])
    services.project_delete(project=project, user=users["owner"])
    assert not Project.objects.filter(slug="acme").exists()
    assert not Membership.objects.exists()
