"""REST API of projects and members: shapes, filters, pagination and error bodies."""

import pytest
from rest_framework.test import APIClient

from apps.core.models import Membership, Project
from apps.core.testing import make_team, make_user

pytestmark = pytest.mark.django_db


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_error(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def test_create_then_read_a_project():
    alice = make_user("alice")
    client = client_for(alice)
    response = client.post(
        "/api/v1/projects/", {"slug": "web", "name": "Web", "description": "Site"}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {
        "slug": "web",
        "name": "Web",
        "description": "Site",
        "created_at": response.json()["created_at"],
        "created_by": "alice",
        "my_role": "owner",
    }
    assert client.get("/api/v1/projects/web/").json()["my_role"] == "owner"
    assert Membership.objects.get(project__slug="web").user == alice


def test_update_keeps_the_slug_and_delete_removes():
    project, users = make_team()
    client = client_for(users["owner"])
    response = client.patch("/api/v1/projects/acme/", {"name": "Acme Corp", "slug": "changed"}, format="json")
    assert response.status_code == 200
    assert response.json()["name"] == "Acme Corp"
    assert response.json()["slug"] == "acme"
    response = client.put("/api/v1/projects/acme/", {"name": "Acme", "description": ""}, format="json")
    assert response.status_code == 200
    assert client.delete("/api/v1/projects/acme/").status_code == 204
    assert not Project.objects.exists()


def test_validation_errors_have_details():
    client = client_for(make_user("alice"))
    error = assert_error(
        client.post("/api/v1/projects/", {"name": "No slug"}, format="json"), 400, "validation_failed"
    )
    assert "slug" in error["details"]
    error = assert_error(
        client.post("/api/v1/projects/", {"slug": "Bad Slug", "name": "X"}, format="json"),
        400,
        "validation_failed",
    )
    assert "slug" in error["details"]
    client.post("/api/v1/projects/", {"slug": "taken", "name": "X"}, format="json")
    assert_error(
        client.post("/api/v1/projects/", {"slug": "taken", "name": "Y"}, format="json"), 409, "conflict"
    )


def test_drf_errors_use_the_same_body():
    project, users = make_team()
    assert_error(client_for().get("/api/v1/projects/"), 403, "not_authenticated")
    assert_error(client_for(users["outsider"]).get("/api/v1/projects/acme/"), 404, "not_found")
    assert_error(
        client_for(users["viewer"]).patch("/api/v1/projects/acme/", {"name": "x"}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        client_for(users["owner"]).post("/api/v1/projects/acme/", {}, format="json"),
        405,
        "method_not_allowed",
    )
    broken = client_for(users["owner"]).generic("POST", "/api/v1/projects/", "{not json", "application/json")
    assert_error(broken, 400, "parse_error")
    assert_error(client_for(users["owner"]).get("/api/v1/no-such-thing/"), 404, "not_found")


def test_wrong_password_is_refused():
    user = make_user("carol")
    user.set_password("right-password")
    user.save()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic Y2Fyb2w6d3Jvbmc=")
    assert_error(client.get("/api/v1/projects/"), 403, "authentication_failed")


def test_projects_filter_and_paginate():
    alice = make_user("alice")
    client = client_for(alice)
    for number in range(55):
        client.post(
            "/api/v1/projects/", {"slug": f"p{number:02d}", "name": f"Project {number}"}, format="json"
        )
    other_project, other_users = make_team("zeta")
    client_for(other_users["owner"]).post(
        "/api/v1/projects/zeta/members/", {"username": "alice", "role": "viewer"}, format="json"
    )
    page = client.get("/api/v1/projects/").json()
    assert page["count"] == 56
    assert len(page["results"]) == 50
    assert page["next"].endswith("page=2")
    assert len(client.get("/api/v1/projects/?page=2").json()["results"]) == 6
    assert [p["slug"] for p in client.get("/api/v1/projects/?role=viewer").json()["results"]] == ["zeta"]
    assert client.get("/api/v1/projects/?name=project 5").json()["count"] == 6
    assert client.get("/api/v1/projects/?slug=p1").json()["count"] == 10
    assert_error(client.get("/api/v1/projects/?role=emperor"), 400, "validation_failed")


def test_members_list_add_change_remove():
    project, users = make_team()
    make_user("newbie")
    client = client_for(users["maintainer"])
    listed = client.get("/api/v1/projects/acme/members/").json()
    assert [m["username"] for m in listed["results"]] == [
        "acme-developer",
        "acme-maintainer",
        "acme-owner",
        "acme-viewer",
    ]
    assert (
        client.get("/api/v1/projects/acme/members/?role=owner").json()["results"][0]["username"]
        == "acme-owner"
    )
    assert client.get("/api/v1/projects/acme/members/?username=dev").json()["count"] == 1
    response = client.post(
        "/api/v1/projects/acme/members/", {"username": "newbie", "role": "viewer"}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["role"] == "viewer"
    response = client.patch("/api/v1/projects/acme/members/newbie/", {"role": "developer"}, format="json")
    assert response.status_code == 200
    assert response.json() == {**response.json(), "username": "newbie", "role": "developer"}
    assert client.get("/api/v1/projects/acme/members/newbie/").json()["role"] == "developer"
    assert client.delete("/api/v1/projects/acme/members/newbie/").status_code == 204
    assert_error(client.get("/api/v1/projects/acme/members/newbie/"), 404, "not_found")


def test_member_rules_surface_as_http_errors():
    project, users = make_team()
    owner, maintainer = client_for(users["owner"]), client_for(users["maintainer"])
    assert_error(
        maintainer.patch("/api/v1/projects/acme/members/acme-owner/", {"role": "viewer"}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(
        owner.patch("/api/v1/projects/acme/members/acme-owner/", {"role": "viewer"}, format="json"),
        409,
        "conflict",
    )
    assert_error(owner.delete("/api/v1/projects/acme/members/acme-owner/"), 409, "conflict")
    assert_error(
        owner.post("/api/v1/projects/acme/members/", {"username": "ghost", "role": "viewer"}, format="json"),
        400,
        "validation_failed",
    )
    assert_error(
        owner.post(
            "/api/v1/projects/acme/members/", {"username": "acme-viewer", "role": "viewer"}, format="json"
        ),
        409,
        "conflict",
    )
    assert_error(
        owner.post("/api/v1/projects/acme/members/", {"username": "x", "role": "king"}, format="json"),
        400,
        "validation_failed",
    )
