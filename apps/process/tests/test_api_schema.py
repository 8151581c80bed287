"""The OpenAPI schema: served at /api/schema/, valid OpenAPI 3, and free of generator warnings."""

import pytest
import yaml
from django.core.management import call_command
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

OUR_PATHS = [
    "/api/v1/projects/",
    "/api/v1/projects/{slug}/",
    "/api/v1/projects/{project_slug}/members/",
    "/api/v1/projects/{project_slug}/members/{username}/",
    "/api/v1/projects/{project_slug}/pipelines/",
    "/api/v1/projects/{project_slug}/pipelines/{slug}/",
    "/api/v1/projects/{project_slug}/pipelines/{slug}/archive/",
    "/api/v1/projects/{project_slug}/pipelines/{pipeline_slug}/versions/",
    "/api/v1/projects/{project_slug}/pipelines/{pipeline_slug}/versions/{number}/",
    "/api/v1/projects/{project_slug}/pipelines/{pipeline_slug}/versions/diff/",
    "/api/v1/pipelines/validate/",
]


def test_schema_endpoint_serves_valid_openapi_3():
    response = APIClient().get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate_schema(schema)
    assert set(OUR_PATHS) <= set(schema["paths"])
    diff = schema["paths"]["/api/v1/projects/{project_slug}/pipelines/{pipeline_slug}/versions/diff/"]["get"]
    assert {p["name"] for p in diff["parameters"] if p["in"] == "query"} == {"from", "to"}
    pipeline_list = schema["paths"]["/api/v1/projects/{project_slug}/pipelines/"]["get"]
    assert {"name", "slug", "archived", "page"} <= {p["name"] for p in pipeline_list["parameters"]}


def test_swagger_ui_page_renders():
    response = APIClient().get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger-ui" in response.content


def test_spectacular_validate_fail_on_warn_passes(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    schema = yaml.safe_load(target.read_text())
    assert set(OUR_PATHS) <= set(schema["paths"])
