"""REST API of pipelines and versions: create, edit, versions, diff, validation and size limits."""

import hashlib
import json

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.process.tests.samples import HELLO, HELLO_TWICE, TWO_PROBLEM_LINES, TWO_PROBLEMS

pytestmark = pytest.mark.django_db

PIPELINES = "/api/v1/projects/acme/pipelines/"


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def developer(team):
    client = APIClient()
    client.force_authenticate(team[1]["developer"])
    return client


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    error = response.json()["error"]
    assert error["code"] == code
    return error


def test_create_and_retrieve(developer):
    response = developer.post(PIPELINES, {"name": "Build", "yaml": HELLO, "message": "v1"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["slug"] == "build"
    assert body["project"] == "acme"
    assert body["yaml"] == HELLO
    assert body["version"] == 1
    assert body["sha256"] == hashlib.sha256(HELLO.encode()).hexdigest()
    assert body["is_archived"] is False
    assert body["created_by"] == "acme-developer"
    assert "message" not in body
    assert developer.get(f"{PIPELINES}build/").json() == body


def test_update_versions_and_diff(developer):
    developer.post(PIPELINES, {"name": "Build", "yaml": HELLO}, format="json")
    same = developer.patch(f"{PIPELINES}build/", {"yaml": HELLO}, format="json")
    assert same.json()["version"] == 1
    changed = developer.put(
        f"{PIPELINES}build/", {"name": "Build", "yaml": HELLO_TWICE, "message": "twice"}, format="json"
    )
    assert changed.status_code == 200
    assert changed.json()["version"] == 2
    versions = developer.get(f"{PIPELINES}build/versions/").json()
    assert versions["count"] == 2
    assert [(v["number"], v["message"]) for v in versions["results"]] == [(2, "twice"), (1, "")]
    one = developer.get(f"{PIPELINES}build/versions/1/").json()
    assert one["yaml"] == HELLO and one["sha256"] == hashlib.sha256(HELLO.encode()).hexdigest()
    assert developer.get(f"{PIPELINES}build/versions/?message=twi").json()["count"] == 1
    diff = developer.get(f"{PIPELINES}build/versions/diff/?from=1&to=2").json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert "+      - run: echo hello again" in diff["diff"].splitlines()
    error_of(developer.get(f"{PIPELINES}build/versions/diff/?from=1&to=7"), 404, "not_found")
    error_of(developer.get(f"{PIPELINES}build/versions/diff/?from=x&to=2"), 400, "validation_failed")
    error_of(developer.get(f"{PIPELINES}build/versions/diff/?to=2"), 400, "validation_failed")
    error_of(developer.get(f"{PIPELINES}build/versions/abc/"), 404, "not_found")


def test_problems_come_back_with_line_and_column(developer):
    error = error_of(
        developer.post(PIPELINES, {"name": "Broken", "yaml": TWO_PROBLEMS}, format="json"),
        400,
        "validation_failed",
    )
    problems = error["details"]["problems"]
    assert len(problems) >= 2
    assert {p["line"] for p in problems} >= TWO_PROBLEM_LINES
    assert all(set(p) == {"path", "line", "column", "message"} for p in problems)
    assert developer.get(PIPELINES).json()["count"] == 0


def test_validate_endpoint_always_answers_200(developer):
    valid = developer.post("/api/v1/pipelines/validate/", {"yaml": HELLO}, format="json")
    assert valid.status_code == 200
    assert valid.json() == {"valid": True, "problems": []}
    invalid = developer.post("/api/v1/pipelines/validate/", {"yaml": TWO_PROBLEMS}, format="json")
    assert invalid.status_code == 200
    body = invalid.json()
    assert body["valid"] is False
    assert {p["line"] for p in body["problems"]} >= TWO_PROBLEM_LINES
    assert all(p["column"] >= 1 for p in body["problems"])
    error_of(developer.post("/api/v1/pipelines/validate/", {}, format="json"), 400, "validation_failed")


def over_limit_yaml() -> str:
    return HELLO + "#" * settings.PIPELINE_MAX_BYTES + "\n"


@pytest.mark.parametrize("request_format", ["json", "multipart"])
def test_yaml_over_one_mib_is_413(developer, request_format):
    big = over_limit_yaml()
    error = error_of(
        developer.post("/api/v1/pipelines/validate/", {"yaml": big}, format=request_format),
        413,
        "payload_too_large",
    )
    assert error["details"]["limit"] == settings.PIPELINE_MAX_BYTES
    error_of(
        developer.post(PIPELINES, {"name": "Big", "yaml": big}, format=request_format),
        413,
        "payload_too_large",
    )
    developer.post(PIPELINES, {"name": "Small", "yaml": HELLO}, format="json")
    error_of(
        developer.patch(f"{PIPELINES}small/", {"yaml": big}, format=request_format), 413, "payload_too_large"
    )
    assert developer.get(f"{PIPELINES}small/").json()["version"] == 1


@pytest.mark.parametrize(
    "content_type, encode",
    [
        ("application/json", lambda text: json.dumps({"yaml": text})),
        ("application/x-www-form-urlencoded", lambda text: "yaml=" + text),
    ],
)
def test_bodies_over_the_upload_limit_are_413(developer, content_type, encode):
    huge = encode("#" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    response = developer.generic("POST", "/api/v1/pipelines/validate/", huge, content_type)
    error_of(response, 413, "payload_too_large")


def test_multipart_bodies_over_the_upload_limit_are_413(developer):
    huge = "#" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = developer.post(PIPELINES, {"name": "Huge", "yaml": huge}, format="multipart")
    error_of(response, 413, "payload_too_large")


def test_archive_restore_and_filters(developer):
    for name in ["Build", "Deploy", "Docs"]:
        developer.post(PIPELINES, {"name": name, "yaml": HELLO}, format="json")
    archived = developer.post(f"{PIPELINES}docs/archive/")
    assert archived.status_code == 200 and archived.json()["is_archived"] is True
    error_of(developer.patch(f"{PIPELINES}docs/", {"yaml": HELLO_TWICE}, format="json"), 409, "conflict")
    slugs = lambda query: [p["slug"] for p in developer.get(PIPELINES + query).json()["results"]]  # noqa: E731
    assert slugs("") == ["build", "deploy", "docs"]
    assert slugs("?archived=false") == ["build", "deploy"]
    assert slugs("?archived=true") == ["docs"]
    assert slugs("?name=de") == ["deploy"]
    assert slugs("?slug=d") == ["build", "deploy", "docs"]
    assert developer.post(f"{PIPELINES}docs/restore/").json()["is_archived"] is False
    error_of(developer.delete(f"{PIPELINES}docs/"), 405, "method_not_allowed")


def test_duplicate_slug_is_409(developer):
    developer.post(PIPELINES, {"name": "Build", "slug": "ci", "yaml": HELLO}, format="json")
    error_of(
        developer.post(PIPELINES, {"name": "Again", "slug": "ci", "yaml": HELLO}, format="json"),
        409,
        "conflict",
    )
