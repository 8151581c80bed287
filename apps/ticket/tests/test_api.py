"""Every credential endpoint against every role, and values never in any response."""

import pytest

from apps.core.testing import make_team
from apps.ticket.models import Credential, CredentialEvent
from apps.ticket.services import credential_create, credential_value

pytestmark = pytest.mark.django_db

ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "superuser", "anonymous"]
BASE = "/api/v1/projects/acme/credentials/"
VALUE = "ApiSecretValue-9f8e7d"


def expect(member, *, manage=None, outsider=404, anonymous=403):
    """Status per role: managers (owner, maintainer, superuser) get `manage`, others `member`."""
    manage = member if manage is None else manage
    return {
        "owner": manage,
        "maintainer": manage,
        "superuser": manage,
        "developer": member,
        "viewer": member,
        "outsider": outsider,
        "anonymous": anonymous,
    }


CASES = [
    ("get", "", None, expect(200)),
    ("get", "DEPLOY/", None, expect(200)),
    ("post", "", {"name": "NEW_ONE", "type": "token", "values": {"token": VALUE}}, expect(403, manage=201)),
    ("patch", "DEPLOY/", {"description": "changed"}, expect(403, manage=200)),
    ("post", "DEPLOY/replace/", {"values": {"username": "u", "password": VALUE}}, expect(403, manage=200)),
    ("get", "DEPLOY/events/", None, expect(403, manage=200)),
    ("get", "DEPLOY/uses/", None, expect(403, manage=200)),
    ("delete", "DEPLOY/", None, expect(403, manage=204)),
]


@pytest.fixture
def deploy(project, users):
    return credential_create(
        project=project,
        user=users["owner"],
        name="DEPLOY",
        type="username_password",
        values={"username": "deployer", "password": VALUE},
        description="for prod",
    )


@pytest.mark.parametrize("method, path, body, statuses", CASES, ids=[f"{c[0]} {c[1] or '/'}" for c in CASES])
@pytest.mark.parametrize("role", ROLES)
def test_permission_table(client_as, deploy, role, method, path, body, statuses):
    response = getattr(client_as(role), method)(BASE + path, body, format="json")
    assert response.status_code == statuses[role], response.content
    assert VALUE.encode() not in response.content
    assert b"deployer" not in response.content


def test_viewers_see_names_only_and_managers_see_the_facts(client_as, deploy):
    viewer = client_as("viewer").get(BASE).json()["results"]
    assert viewer == [{"name": "DEPLOY", "type": "username_password", "description": "for prod"}]
    owner = client_as("owner").get(BASE + "DEPLOY/").json()
    assert owner["created_by"] == "acme-owner" and owner["shared_with"] == [] and "values" not in owner


def test_create_validates_name_type_fields_and_uniqueness(client_as, deploy):
    owner = client_as("owner")
    bad_name = owner.post(BASE, {"name": "lower", "type": "token", "values": {"token": "x"}}, format="json")
    assert bad_name.status_code == 400 and "name" in bad_name.json()["error"]["details"]
    missing = owner.post(
        BASE, {"name": "CERT", "type": "certificate", "values": {"certificate": "c"}}, format="json"
    )
    assert missing.status_code == 400 and "private_key" in missing.json()["error"]["details"]
    unknown = owner.post(
        BASE, {"name": "TOK", "type": "token", "values": {"token": "t", "extra": "e"}}, format="json"
    )
    assert unknown.status_code == 400 and "extra" in unknown.json()["error"]["details"]
    duplicate = owner.post(BASE, {"name": "DEPLOY", "type": "token", "values": {"token": "t"}}, format="json")
    assert duplicate.status_code == 409


def test_replace_share_and_audit_trail(client_as, deploy, users):
    make_team("other")
    owner = client_as("superuser")
    response = owner.patch(
        BASE + "DEPLOY/",
        {"shared_with": ["other"], "values": {"username": "u2", "password": "p2"}},
        format="json",
    )
    assert response.status_code == 200 and response.json()["shared_with"] == ["other"]
    deploy.refresh_from_db()
    assert credential_value(deploy) == {"username": "u2", "password": "p2"}
    unknown = client_as("owner").patch(BASE + "DEPLOY/", {"shared_with": ["nope"]}, format="json")
    assert unknown.status_code == 400
    events = client_as("owner").get(BASE + "DEPLOY/events/").json()["results"]
    assert [event["action"] for event in events] == ["rotated", "shared", "created"]
    assert events[0]["actor"] == "acme-root"
    client_as("owner").delete(BASE + "DEPLOY/")
    assert not Credential.objects.exists()
    assert CredentialEvent.objects.filter(
        credential_name="DEPLOY", action="deleted", credential=None
    ).exists()
