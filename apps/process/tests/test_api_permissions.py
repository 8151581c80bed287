"""Every API endpoint against every role: the status each one gets.

Roles: the four member roles, an authenticated non-member ("outsider"), a superuser who is not a
member, and an anonymous caller. Non-members get 404 for anything inside a project (its existence
is never revealed); a role too low for a write gets 403; anonymous callers get 403.
"""

import json

import pytest
from rest_framework.test import APIClient

from apps.core import services as core_services
from apps.core.testing import make_team, make_user
from apps.process import services
from apps.process.tests.samples import HELLO, HELLO_TWICE

pytestmark = pytest.mark.django_db

ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "superuser", "anonymous"]
PROJECT = "/api/v1/projects/acme"
PIPELINE = f"{PROJECT}/pipelines/build"


def expect(
    member: int,
    *,
    owner=None,
    maintainer=None,
    developer=None,
    viewer=None,
    outsider=404,
    superuser=None,
    anonymous=403,
) -> dict:
    """Expected status per role; unnamed member roles (and the superuser) get `member`."""
    named = {"owner": owner, "maintainer": maintainer, "developer": developer, "viewer": viewer}
    table = {role: member if status is None else status for role, status in named.items()}
    table.update(outsider=outsider, superuser=member if superuser is None else superuser, anonymous=anonymous)
    return table


ENDPOINTS = [
    ("GET", "/api/v1/projects/", None, expect(200, outsider=200)),
    ("POST", "/api/v1/projects/", {"slug": "fresh", "name": "Fresh"}, expect(201, outsider=201)),
    ("GET", f"{PROJECT}/", None, expect(200)),
    ("PATCH", f"{PROJECT}/", {"name": "Renamed"}, expect(200, developer=403, viewer=403)),
    ("PUT", f"{PROJECT}/", {"name": "Renamed", "description": ""}, expect(200, developer=403, viewer=403)),
    ("DELETE", f"{PROJECT}/", None, expect(204, maintainer=403, developer=403, viewer=403)),
    ("GET", f"{PROJECT}/members/", None, expect(200)),
    ("GET", f"{PROJECT}/members/target/", None, expect(200)),
    (
        "POST",
        f"{PROJECT}/members/",
        {"username": "newbie", "role": "viewer"},
        expect(201, developer=403, viewer=403),
    ),
    ("PATCH", f"{PROJECT}/members/target/", {"role": "developer"}, expect(200, developer=403, viewer=403)),
    (
        "PUT",
        f"{PROJECT}/members/target/",
        {"username": "target", "role": "developer"},
        expect(200, developer=403, viewer=403),
    ),
    ("DELETE", f"{PROJECT}/members/target/", None, expect(204, developer=403, viewer=403)),
    ("GET", f"{PROJECT}/pipelines/", None, expect(200)),
    ("POST", f"{PROJECT}/pipelines/", {"name": "New", "yaml": HELLO}, expect(201, viewer=403)),
    ("GET", f"{PIPELINE}/", None, expect(200)),
    ("PATCH", f"{PIPELINE}/", {"yaml": HELLO_TWICE}, expect(200, viewer=403)),
    ("PUT", f"{PIPELINE}/", {"name": "Build", "yaml": HELLO_TWICE}, expect(200, viewer=403)),
    (
        "PATCH",
        f"{PIPELINE}/",
        {"repository_url": "https://git.example.com/acme/build.git"},
        expect(200, developer=403, viewer=403),
    ),
    ("DELETE", f"{PIPELINE}/", None, expect(405)),
    ("POST", f"{PIPELINE}/archive/", None, expect(200, viewer=403)),
    ("POST", f"{PIPELINE}/restore/", None, expect(200, viewer=403)),
    ("GET", f"{PIPELINE}/versions/", None, expect(200)),
    ("GET", f"{PIPELINE}/versions/1/", None, expect(200)),
    ("GET", f"{PIPELINE}/versions/diff/?from=1&to=1", None, expect(200)),
    ("POST", f"{PIPELINE}/versions/", {}, expect(405)),
    ("POST", "/api/v1/pipelines/validate/", {"yaml": HELLO}, expect(200, outsider=200)),
]

CASES = [
    pytest.param(method, url, body, role, table[role], id=f"{method} {url} as {role}")
    for method, url, body, table in ENDPOINTS
    for role in ROLES
]


def test_every_endpoint_is_in_the_table():
    assert len(ENDPOINTS) == 26
    assert all(set(table) == set(ROLES) for *_, table in ENDPOINTS)


@pytest.mark.parametrize("method, url, body, role, status", CASES)
def test_status_by_role(method, url, body, role, status):
    project, users = make_team("acme")
    make_user("newbie")
    make_user("target")
    core_services.member_add(project=project, user=users["owner"], username="target", role="viewer")
    services.pipeline_create(project=project, user=users["owner"], name="Build", yaml=HELLO)
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(users[role])
    payload = () if body is None else (json.dumps(body), "application/json")
    response = client.generic(method, url, *payload)
    assert response.status_code == status, response.content[:300]
    if status >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
