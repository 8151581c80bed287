"""Members: who may add, change and remove whom, and the last-owner rule."""

import pytest

from apps.core import services
from apps.core.choices import Role
from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.models import Membership
from apps.core.testing import make_team, make_user

pytestmark = pytest.mark.django_db


def role_of(project, username):
    return Membership.objects.get(project=project, user__username=username).role


@pytest.mark.parametrize("actor", ["owner", "maintainer"])
def test_owners_and_maintainers_add_members(actor):
    project, users = make_team()
    make_user("newbie")
    membership = services.member_add(
        project=project, user=users[actor], username="newbie", role=Role.DEVELOPER
    )
    assert membership.role == Role.DEVELOPER
    assert role_of(project, "newbie") == "developer"


@pytest.mark.parametrize("actor", ["developer", "viewer"])
def test_developers_and_viewers_do_not_manage_members(actor):
    project, users = make_team()
    make_user("newbie")
    with pytest.raises(PermissionDenied):
        services.member_add(project=project, user=users[actor], username="newbie", role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.member_change_role(
            project=project, user=users[actor], username="acme-viewer", role=Role.OWNER
        )
    with pytest.raises(PermissionDenied):
        services.member_remove(project=project, user=users[actor], username="acme-maintainer")


def test_outsiders_are_told_not_found():
    project, users = make_team()
    with pytest.raises(NotFound):
        services.member_add(project=project, user=users["outsider"], username="acme-viewer", role=Role.VIEWER)
    with pytest.raises(NotFound):
        services.member_remove(project=project, user=users["outsider"], username="acme-viewer")


def test_maintainers_manage_only_below_owner():
    project, users = make_team()
    maintainer = users["maintainer"]
    make_user("newbie")
    with pytest.raises(PermissionDenied):
        services.member_add(project=project, user=maintainer, username="newbie", role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        services.member_change_role(project=project, user=maintainer, username="acme-viewer", role=Role.OWNER)
    with pytest.raises(PermissionDenied):
        services.member_change_role(project=project, user=maintainer, username="acme-owner", role=Role.VIEWER)
    with pytest.raises(PermissionDenied):
        services.member_remove(project=project, user=maintainer, username="acme-owner")
    services.member_change_role(
        project=project, user=maintainer, username="acme-viewer", role=Role.MAINTAINER
    )
    assert role_of(project, "acme-viewer") == "maintainer"
    services.member_remove(project=project, user=maintainer, username="acme-developer")
    assert not Membership.objects.filter(project=project, user__username="acme-developer").exists()


def test_owners_grant_and_take_ownership():
    project, users = make_team()
    services.member_change_role(project=project, user=users["owner"], username="acme-viewer", role=Role.OWNER)
    new_owner = users["viewer"]
    services.member_change_role(project=project, user=new_owner, username="acme-owner", role=Role.DEVELOPER)
    assert role_of(project, "acme-viewer") == "owner"
    assert role_of(project, "acme-owner") == "developer"


def test_the_last_owner_stays():
    project, users = make_team()
    with pytest.raises(Conflict):
        services.member_change_role(
            project=project, user=users["owner"], username="acme-owner", role=Role.VIEWER
        )
    with pytest.raises(Conflict):
        services.member_remove(project=project, user=users["owner"], username="acme-owner")
    with pytest.raises(Conflict):
        services.member_remove(project=project, user=users["superuser"], username="acme-owner")
    assert role_of(project, "acme-owner") == "owner"


def test_any_member_may_leave():
    project, users = make_team()
    services.member_remove(project=project, user=users["viewer"], username="acme-viewer")
    assert not Membership.objects.filter(project=project, user=users["viewer"]).exists()


def test_unknown_user_and_duplicates_are_refused():
    project, users = make_team()
    with pytest.raises(ValidationFailed) as caught:
        services.member_add(project=project, user=users["owner"], username="ghost", role=Role.VIEWER)
    assert "username" in caught.value.details
    with pytest.raises(Conflict):
        services.member_add(project=project, user=users["owner"], username="acme-viewer", role=Role.VIEWER)
    with pytest.raises(NotFound):
        services.member_change_role(project=project, user=users["owner"], username="ghost", role=Role.VIEWER)


def test_superusers_manage_members_without_membership():
    project, users = make_team()
    services.member_change_role(
        project=project, user=users["superuser"], username="acme-viewer", role=Role.OWNER
    )
    assert role_of(project, "acme-viewer") == "owner"
