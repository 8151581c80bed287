"""Core pages: sign-in, dashboard, project creation and member management forms."""

import pytest
from django.test import Client

from apps.core.models import Membership, Project
from apps.core.testing import make_team, make_user

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pages_need_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"
    assert Client().get("/projects/new/").status_code == 302


def test_login_and_logout():
    user = make_user("alice")
    user.set_password("a-long-password")
    user.save()
    client = Client()
    page = client.get("/accounts/login/")
    assert page.status_code == 200 and b'name="password"' in page.content
    response = client.post("/accounts/login/", {"username": "alice", "password": "a-long-password"})
    assert response.status_code == 302 and response["Location"] == "/"
    assert b"Your projects" in client.get("/").content
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_dashboard_lists_my_projects_with_a_filter():
    project, users = make_team("acme")
    make_team("zeta")
    page = client_for(users["viewer"]).get("/")
    assert page.status_code == 200
    assert b"/projects/acme/" in page.content
    assert b"/projects/zeta/" not in page.content
    assert b"/projects/acme/" not in client_for(users["viewer"]).get("/?name=nothing").content
    assert b"/projects/zeta/" not in client_for(users["outsider"]).get("/").content


def test_create_a_project_from_the_form():
    client = client_for(make_user("alice"))
    assert client.get("/projects/new/").status_code == 200
    response = client.post("/projects/new/", {"slug": "web", "name": "Web", "description": ""})
    assert response.status_code == 302 and response["Location"] == "/projects/web/"
    assert Membership.objects.get(project__slug="web").role == "owner"
    again = client.post("/projects/new/", {"slug": "web", "name": "Again"})
    assert again.status_code == 200 and b"This slug is taken." in again.content
    bad = client.post("/projects/new/", {"slug": "Bad Slug", "name": "Bad"})
    assert b"lowercase letters" in bad.content
    assert Project.objects.count() == 1


def test_maintainer_adds_changes_and_removes_a_member():
    project, users = make_team()
    make_user("newbie")
    client = client_for(users["maintainer"])
    response = client.post(
        "/projects/acme/members/add/", {"username": "newbie", "role": "viewer"}, follow=True
    )
    assert response.status_code == 200 and b"newbie added as viewer." in response.content
    client.post("/projects/acme/members/newbie/role/", {"role": "developer"})
    assert Membership.objects.get(user__username="newbie").role == "developer"
    client.post("/projects/acme/members/newbie/remove/")
    assert not Membership.objects.filter(user__username="newbie").exists()


def test_member_rule_violations_show_as_messages():
    project, users = make_team()
    owner = client_for(users["owner"])
    response = owner.post("/projects/acme/members/acme-owner/role/", {"role": "viewer"}, follow=True)
    assert b"at least one owner" in response.content
    response = owner.post("/projects/acme/members/add/", {"username": "ghost", "role": "viewer"}, follow=True)
    assert b"There is no user called" in response.content
    assert Membership.objects.get(user__username="acme-owner").role == "owner"


@pytest.mark.parametrize("role, status", [("developer", 403), ("viewer", 403), ("outsider", 404)])
def test_member_forms_refuse_lower_roles(role, status):
    project, users = make_team()
    make_user("newbie")
    client = client_for(users[role])
    assert (
        client.post("/projects/acme/members/add/", {"username": "newbie", "role": "owner"}).status_code
        == status
    )
    assert client.post("/projects/acme/members/acme-viewer/role/", {"role": "owner"}).status_code == status
    assert client.post("/projects/acme/members/acme-maintainer/remove/").status_code == status
    assert not Membership.objects.filter(user__username="newbie").exists()
    assert Membership.objects.get(user__username="acme-viewer").role == "viewer"


def test_a_viewer_can_leave():
    project, users = make_team()
    response = client_for(users["viewer"]).post("/projects/acme/members/acme-viewer/remove/")
    assert response["Location"] == "/"
    assert not Membership.objects.filter(user=users["viewer"]).exists()
