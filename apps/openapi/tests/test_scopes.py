"""Every API endpoint (read from the OpenAPI schema) against tokens of each scope: a token without
the scope an operation needs gets 403 `insufficient_scope`, one with it gets past the check, and a
project bot token never reaches another project (404). The expected scope is stated here again,
independently of apps/openapi/scopes.py, so a new endpoint that slips through fails this test."""

import pytest
from drf_spectacular.generators import SchemaGenerator

from apps.openapi import services
from apps.openapi.tests.helpers import SCOPES, bearer
from apps.openapi.tests.world import build_world, fill_path

pytestmark = pytest.mark.django_db

# Endpoints that ignore tokens on purpose (their own credentials).
NOT_TOKEN_AUTHENTICATED = ("/api/v1/remote/", "/api/agent/")
TRIGGER_VERBS = {"cancel", "retry", "approve", "reject", "override", "trigger", "run"}
ADMIN_SEGMENTS = {"members", "tokens", "registration-tokens", "webhook"}


def operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, methods in schema["paths"].items():
        if path.startswith(NOT_TOKEN_AUTHENTICATED):
            continue
        found.extend(
            (path, method.upper())
            for method in methods
            if method in ("get", "post", "put", "patch", "delete")
        )
    return sorted(found)


def expected_scope(path: str, method: str) -> str:
    segments = [part for part in path.strip("/").split("/") if not part.startswith("{")]
    if method == "GET" or path == "/api/v1/pipelines/validate/":
        return "read"
    if segments[-1] in TRIGGER_VERBS or (segments[-1] == "builds" and method == "POST"):
        return "trigger"
    if ADMIN_SEGMENTS & set(segments) or (path == "/api/v1/projects/{slug}/" and method != "POST"):
        return "admin"
    return "write"


def call(client, method: str, url: str):
    return getattr(client, method.lower())(url, {}, format="json")


def is_scope_refusal(response) -> bool:
    if response.status_code != 403:
        return False
    return response.json()["error"]["code"] == "insufficient_scope"


OPERATIONS = operations()


def test_the_schema_lists_the_endpoints_this_test_covers():
    paths = {path for path, _ in OPERATIONS}
    assert "/api/v1/projects/{project_slug}/pipelines/{pipeline_slug}/builds/" in paths
    assert "/api/v1/tokens/" in paths and "/api/v1/projects/{project_slug}/tokens/" in paths
    assert len(OPERATIONS) > 40


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_scope_and_project_limits(path, method):
    world = build_world()
    owner = world["users"]["owner"]
    url = fill_path(path, world)
    required = expected_scope(path, method)
    needed = SCOPES.index(required)
    # Tokens below the needed scope are refused before anything happens.
    for scope in SCOPES[:needed]:
        plaintext = services.token_create(user=owner, name=scope, scopes=[scope])[1]
        response = call(bearer(plaintext), method, url)
        assert is_scope_refusal(response), (scope, response.status_code, response.content[:300])
        assert response.json()["error"]["details"]["required_scope"] == required
    # A bot token of another project is told the project does not exist, whatever its scope.
    if "{project_slug}" in path or path.startswith("/api/v1/projects/{slug}/"):
        other = build_world("other")
        outsider = services.project_token_create(
            project=other["project"], user=other["users"]["owner"], name="bot", scopes=["admin"]
        )[1]
        response = call(bearer(outsider), method, url)
        assert response.status_code == 404, (response.status_code, response.content[:300])
    # The needed scope (and any above it) gets past the check; the endpoint then does its work.
    for scope in SCOPES[needed:]:
        plaintext = services.token_create(user=owner, name=scope, scopes=[scope])[1]
        response = call(bearer(plaintext), method, url)
        assert not is_scope_refusal(response), (scope, response.content[:300])
        assert response.status_code < 500
