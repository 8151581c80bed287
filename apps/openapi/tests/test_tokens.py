"""API tokens: shown once and stored hashed, bearer authentication, expiry, revocation at once,
last-used time written at most once a minute, bot tokens bound to their project, the pages."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.models import Membership
from apps.core.testing import make_team
from apps.openapi import services
from apps.openapi.models import ApiToken
from apps.openapi.tests.helpers import bearer, personal_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_team()


def test_token_is_shown_once_and_stored_as_its_sha256(team):
    owner = team[1]["owner"]
    response = APIClient()
    response.force_login(owner)
    body = response.post("/api/v1/tokens/", {"name": "ci", "scopes": ["read"]}, format="json").json()
    plaintext = body["token"]
    assert plaintext.startswith("dvp_") and len(plaintext) > 40
    stored = ApiToken.objects.get(id=body["id"])
    assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert plaintext not in str(ApiToken.objects.filter(id=stored.id).values().get())
    listed = response.get("/api/v1/tokens/").json()["results"]
    assert [item["hint"] for item in listed] == [plaintext[:8]] and "token" not in listed[0]


def test_bearer_token_reads_the_api_as_its_user(team):
    project, users = team
    client = bearer(personal_token(users["viewer"], ["read"]))
    response = client.get("/api/v1/projects/")
    assert response.status_code == 200
    assert [item["slug"] for item in response.json()["results"]] == [project.slug]


def test_unknown_revoked_and_expired_tokens_get_401(team):
    users = team[1]
    assert bearer("dvp_nope").get("/api/v1/projects/").status_code == 401
    token, plaintext = services.token_create(user=users["owner"], name="x", scopes=["read"])
    client = bearer(plaintext)
    assert client.get("/api/v1/projects/").status_code == 200
    services.token_revoke(token=token, user=users["owner"])
    response = client.get("/api/v1/projects/")
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == "authentication_failed"
    expired, plaintext = services.token_create(
        user=users["owner"], name="y", scopes=["read"], expires_at=timezone.now() + timedelta(hours=1)
    )
    assert bearer(plaintext).get("/api/v1/projects/").status_code == 200
    ApiToken.objects.filter(id=expired.id).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert bearer(plaintext).get("/api/v1/projects/").status_code == 401


def test_anonymous_callers_still_get_403(team):
    assert APIClient().get("/api/v1/projects/").status_code == 403


def test_last_used_is_written_at_most_once_a_minute(team):
    token, plaintext = services.token_create(user=team[1]["owner"], name="x", scopes=["read"])
    client = bearer(plaintext)
    client.get("/api/v1/projects/")
    first = ApiToken.objects.get(id=token.id).last_used_at
    assert first is not None
    client.get("/api/v1/projects/")
    assert ApiToken.objects.get(id=token.id).last_used_at == first
    ApiToken.objects.filter(id=token.id).update(last_used_at=first - timedelta(minutes=2))
    client.get("/api/v1/projects/")
    assert ApiToken.objects.get(id=token.id).last_used_at > first


def test_token_needs_no_csrf_but_a_session_write_does(team):
    client = bearer(personal_token(team[1]["owner"], ["write"]))
    body = {"slug": "fresh", "name": "Fresh"}
    assert client.post("/api/v1/projects/", body, format="json").status_code == 201


def test_bot_token_is_bound_to_its_project(team):
    project, users = team
    make_team("other")
    token, plaintext = services.project_token_create(
        project=project, user=users["maintainer"], name="deployer", scopes=["trigger"]
    )
    client = bearer(plaintext)
    assert [p["slug"] for p in client.get("/api/v1/projects/").json()["results"]] == [project.slug]
    assert client.get("/api/v1/projects/other/pipelines/").status_code == 404
    assert client.get(f"/api/v1/projects/{project.slug}/pipelines/").status_code == 200
    # It cannot mint personal tokens for itself.
    created = client.post("/api/v1/tokens/", {"name": "x", "scopes": ["read"]}, format="json")
    assert created.status_code == 403
    services.token_revoke(token=token, user=users["owner"])
    assert not Membership.objects.filter(user=token.user).exists()
    assert client.get(f"/api/v1/projects/{project.slug}/pipelines/").status_code == 401


def test_only_maintainers_make_bot_tokens(team):
    project, users = team
    url = f"/api/v1/projects/{project.slug}/tokens/"
    developer = APIClient()
    developer.force_login(users["developer"])
    assert developer.post(url, {"name": "x", "scopes": ["read"]}, format="json").status_code == 403
    maintainer = APIClient()
    maintainer.force_login(users["maintainer"])
    created = maintainer.post(url, {"name": "x", "scopes": ["admin"]}, format="json")
    assert created.status_code == 201 and created.json()["project"] == project.slug
    assert maintainer.delete(f"{url}{created.json()['id']}/").status_code == 204
    assert maintainer.get(f"{url}{created.json()['id']}/").json()["revoked_at"] is not None


def test_bad_scopes_and_past_expiry_are_validation_errors(team):
    client = APIClient()
    client.force_login(team[1]["owner"])
    bad = client.post("/api/v1/tokens/", {"name": "x", "scopes": ["root"]}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "validation_failed"
    past = client.post(
        "/api/v1/tokens/",
        {"name": "x", "scopes": ["read"], "expires_at": "2001-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 400


def test_someone_elses_token_cannot_be_revoked(team):
    users = team[1]
    token, _ = services.token_create(user=users["owner"], name="x", scopes=["read"])
    client = APIClient()
    client.force_login(users["viewer"])
    assert client.delete(f"/api/v1/tokens/{token.id}/").status_code == 404


def test_token_pages_create_show_once_and_revoke(team):
    project, users = team
    client = APIClient()
    client.force_login(users["maintainer"])
    page = client.post("/tokens/", {"name": "laptop", "scopes": ["read", "trigger"], "expires_in_days": "30"})
    assert page.status_code == 200 and b"dvp_" in page.content
    token = ApiToken.objects.get(name="laptop")
    assert token.scopes == ["read", "trigger"] and token.expires_at is not None
    assert (
        b"dvp_" not in client.get("/tokens/").content or token.hint.encode() in client.get("/tokens/").content
    )
    assert client.post(f"/tokens/{token.id}/revoke/").status_code == 302
    assert ApiToken.objects.get(id=token.id).revoked_at is not None
    bots = client.post(f"/projects/{project.slug}/tokens/", {"name": "bot", "scopes": ["read"]})
    assert bots.status_code == 200 and b"dvp_" in bots.content
    developer = APIClient()
    developer.force_login(users["developer"])
    assert developer.get(f"/projects/{project.slug}/tokens/").status_code == 403
