"""Recording metrics: the upsert itself, step reports of the agent protocol, the agent's report
uploads, and the public API (upload and read) with its project, role and token-scope limits."""

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.dispatch.services import job_claim
from apps.environment.services import agent_create
from apps.openapi import services as tokens
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.process.services.engine import build_advance
from apps.process.services.jobs import job_claim_payload
from apps.quality.metrics import metrics_record
from apps.quality.models import Metric
from apps.quality.selectors import build_metrics, job_metrics
from apps.quality.tests.test_reports import COVERAGE_PY, PYTEST_JUNIT

TWO_JOBS = """name: checks
jobs:
  unit:
    runs-on: [self-hosted]
    steps:
      - run: echo test
      - run: echo more
  lint:
    runs-on: [self-hosted]
    steps:
      - run: echo lint
"""
BUILD_API = "/api/v1/projects/acme/pipelines/checks/builds/1/"
JUNIT_METRICS = {
    "tests.total": 5,
    "tests.passed": 2,
    "tests.failed": 1,
    "tests.errors": 1,
    "tests.skipped": 1,
    "tests.duration_seconds": 1.234,
}


@pytest.fixture
def team(db):
    return make_team()


@pytest.fixture
def build(team):
    project, users = team
    pipeline = pipeline_create(project=project, user=users["owner"], name="checks", yaml=TWO_JOBS)
    return build_start(pipeline=pipeline, user=users["owner"])


def post_xml(client: APIClient, url: str, content: bytes):
    return client.post(url, content, content_type="application/xml")


def job_of(build, key: str):
    return build.jobs.get(key=key)


class TestRecord:
    def test_values_keep_their_types_and_unusable_ones_are_dropped(self, build):
        unit = job_of(build, "unit")
        stored = metrics_record(build_id=build.id, job_id=unit.id, metrics={
            "coverage.line": 87.5, "tests.failed": 0, "lint.clean": True, "grade": "B+",
            "nan": float("nan"), "nested": {"a": 1}, "none": None, " ": 3, "x" * 201: 1,
        })
        assert stored == {"coverage.line": 87.5, "tests.failed": 0, "lint.clean": True, "grade": "B+"}
        values = job_metrics(build.id)[unit.id]
        assert values == stored
        assert isinstance(values["tests.failed"], int) and values["lint.clean"] is True

    def test_a_later_value_replaces_the_earlier_one_per_job_and_name(self, build):
        unit, lint = job_of(build, "unit"), job_of(build, "lint")
        metrics_record(build_id=build.id, job_id=unit.id, metrics={"score": 1, "kept": "yes"})
        metrics_record(build_id=build.id, job_id=lint.id, metrics={"score": 5})
        metrics_record(build_id=build.id, job_id=unit.id, metrics={"score": 2}, source="junit")
        assert Metric.objects.filter(build=build).count() == 3
        assert job_metrics(build.id) == {unit.id: {"score": 2, "kept": "yes"}, lint.id: {"score": 5}}
        assert Metric.objects.get(job=unit, name="score").source == "junit"

    def test_build_wide_values_are_upserted_too(self, build):
        metrics_record(build_id=build.id, job_id=None, metrics={"release.size": 10}, source="api")
        metrics_record(build_id=build.id, job_id=None, metrics={"release.size": 12, "other": 1}, source="api")
        assert Metric.objects.filter(build=build, job=None).count() == 2
        assert job_metrics(build.id)[None] == {"release.size": 12, "other": 1}
        assert build_metrics(build.id) == {"release.size": 12, "other": 1}

    def test_nothing_is_queried_for_no_metrics_and_one_upsert_per_job(self, build, django_assert_num_queries):
        unit = job_of(build, "unit")
        with django_assert_num_queries(0):
            assert metrics_record(build_id=build.id, job_id=unit.id, metrics={}) == {}
            assert metrics_record(build_id=build.id, job_id=unit.id, metrics={"bad": [1]}) == {}
        with django_assert_num_queries(1):
            metrics_record(build_id=build.id, job_id=unit.id, metrics={f"m{n}": n for n in range(50)})
        assert len(job_metrics(build.id)[unit.id]) == 50


class TestAgentProtocol:
    @pytest.fixture
    def agent_call(self, team, build, client):
        project, users = team
        build_advance(build.id)
        agent, secret = agent_create(project=project, user=users["owner"], name="a", labels=["self-hosted"])
        other, other_secret = agent_create(project=project, user=users["owner"], name="b", labels=["x"])

        def call(path: str, body: dict, *, status: int = 200, as_other: bool = False) -> dict:
            auth = f"Agent {other.id}:{other_secret}" if as_other else f"Agent {agent.id}:{secret}"
            response = client.post(f"/api/agent/v1/{path}", json.dumps(body), content_type="application/json",
                                   HTTP_AUTHORIZATION=auth)
            assert response.status_code == status, response.content
            return response.json()

        # The claim service, not the long-poll view (that one answers from a thread of its own).
        call.claim = lambda: job_claim_payload(job_claim(agent=agent))
        return call

    @staticmethod
    def report(index: int, metrics: dict, attempt: int = 1) -> dict:
        moment = "2026-01-01T00:00:00.000Z"
        return {"index": index, "attempt": attempt, "status": "succeeded", "exit_code": 0,
                "started_at": moment, "finished_at": moment, "metrics": metrics}

    def test_step_reports_store_metrics_once(self, agent_call):
        job = agent_call.claim()
        path = f"jobs/{job['id']}/steps/next"
        agent_call(path, {"runner": {}, "completed": None})
        agent_call(path, {"runner": {}, "completed": self.report(0, {"coverage.line": 80.5, "grade": "A"})})
        job_id = int(job["id"])
        build_id = Metric.objects.get(name="grade").build_id
        assert job_metrics(build_id) == {job_id: {"coverage.line": 80.5, "grade": "A"}}
        # The same report again (a retried request) changes nothing, even with other values.
        agent_call(path, {"runner": {}, "completed": self.report(0, {"coverage.line": 1})})
        assert job_metrics(build_id)[job_id]["coverage.line"] == 80.5
        assert Metric.objects.get(name="grade").source == "step"
        agent_call(f"jobs/{job['id']}/finish", {"status": "succeeded", "error": None,
                                                 "completed": [self.report(1, {"coverage.line": 82})]})
        assert job_metrics(build_id)[job_id] == {"coverage.line": 82, "grade": "A"}

    def test_the_agent_uploads_a_report_of_its_job(self, agent_call):
        job = agent_call.claim()
        body = {"type": "junit", "path": "out/junit.xml", "step": 0,
                "content": base64.b64encode(PYTEST_JUNIT).decode()}
        answer = agent_call(f"jobs/{job['id']}/reports", body)
        assert answer == {"type": "junit", "metrics": JUNIT_METRICS}
        rows = Metric.objects.filter(job_id=int(job["id"]))
        assert {row.name: (row.value, row.source) for row in rows}["tests.failed"] == (1, "junit")
        coverage = {**body, "type": "coverage", "content": base64.b64encode(COVERAGE_PY).decode()}
        assert agent_call(f"jobs/{job['id']}/reports", coverage)["metrics"] == {
            "coverage.line": 87.5, "coverage.branch": 75.0}

    def test_refused_uploads_say_why(self, agent_call):
        job = agent_call.claim()
        path = f"jobs/{job['id']}/reports"
        doctype = b'<!DOCTYPE x [<!ENTITY a "b">]><testsuite/>'
        cases = [
            ({"type": "junit", "content": base64.b64encode(doctype).decode()}, 400, "DOCTYPE"),
            ({"type": "junit", "content": base64.b64encode(b"<testsuite>").decode()}, 400, "not well-formed"),
            ({"type": "junit", "content": "%%%"}, 400, "not valid base64"),
            ({"type": "lcov", "content": "eA=="}, 400, "unknown report type 'lcov'"),
            ({"type": "junit"}, 400, "base64-encoded"),
        ]
        for body, status, reason in cases:
            answer = agent_call(path, body, status=status)
            assert reason in answer["error"]["message"], answer
        good = {"type": "junit", "content": base64.b64encode(PYTEST_JUNIT).decode()}
        assert agent_call(path, good, status=404, as_other=True)["error"]["code"] == "not_found"
        assert not Metric.objects.exists()


@pytest.fixture
def api_as(team, build):
    def make(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(team[1][role])
        return client

    return make


class TestApi:
    def test_upload_raw_and_multipart_then_read_per_job_and_build(self, api_as, build):
        developer = api_as("developer")
        raw = post_xml(developer, f"{BUILD_API}reports/?type=junit&job=unit", PYTEST_JUNIT)
        assert raw.status_code == 201, raw.content
        assert raw.json() == {"type": "junit", "job": "unit", "metrics": JUNIT_METRICS}
        with_curl_default = developer.post(f"{BUILD_API}reports/?type=coverage", COVERAGE_PY,
                                           content_type="application/x-www-form-urlencoded")
        assert with_curl_default.status_code == 201, with_curl_default.content
        assert with_curl_default.json()["job"] is None
        half = COVERAGE_PY.replace(b'lines-covered="105"', b'lines-covered="60"')
        upload = {"file": SimpleUploadedFile("coverage.xml", half), "type": "coverage", "job": "lint"}
        multipart = developer.post(f"{BUILD_API}reports/", upload, format="multipart")
        assert multipart.status_code == 201, multipart.content
        assert multipart.json()["metrics"] == {"coverage.line": 50.0, "coverage.branch": 75.0}

        read = api_as("viewer").get(f"{BUILD_API}metrics/")
        assert read.status_code == 200
        body = read.json()
        assert body["values"]["tests.failed"] == 1 and body["values"]["coverage.line"] == 50.0
        assert [(job["key"], job["name"]) for job in body["jobs"]] == [("unit", "unit"), ("lint", "lint"),
                                                                      (None, None)]
        assert body["jobs"][0]["values"] == JUNIT_METRICS
        assert body["jobs"][1]["values"] == {"coverage.line": 50.0, "coverage.branch": 75.0}
        assert body["jobs"][2]["values"] == {"coverage.line": 87.5, "coverage.branch": 75.0}

    def test_bad_uploads_are_400_413_or_404_with_the_reason(self, api_as, build, settings, monkeypatch):
        developer = api_as("developer")
        cases = [
            (f"{BUILD_API}reports/?type=junit", b"<testsuite>", 400, "not well-formed XML"),
            (f"{BUILD_API}reports/?type=junit", b'<!DOCTYPE t [<!ENTITY e "x">]><t/>', 400, "DOCTYPE"),
            (f"{BUILD_API}reports/", PYTEST_JUNIT, 400, "unknown report type ''"),
            (f"{BUILD_API}reports/?type=coverage", PYTEST_JUNIT, 400, "not a Cobertura / coverage.py"),
            (f"{BUILD_API}reports/?type=junit&job=nope", PYTEST_JUNIT, 404, "Job nope of build #1 not found"),
            ("/api/v1/projects/acme/pipelines/checks/builds/9/reports/?type=junit", PYTEST_JUNIT, 404, "#9"),
        ]
        for url, content, status, reason in cases:
            response = post_xml(developer, url, content)
            assert response.status_code == status, (url, response.content)
            assert reason in response.json()["error"]["message"], response.json()
        monkeypatch.setattr("apps.quality.api.metrics.REPORT_MAX_BYTES", 100)
        too_big = post_xml(developer, f"{BUILD_API}reports/?type=junit", PYTEST_JUNIT)
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
        no_file = developer.post(f"{BUILD_API}reports/", {"type": "junit"}, format="multipart")
        assert no_file.status_code == 400 and "multipart 'file'" in no_file.json()["error"]["message"]
        assert not Metric.objects.exists()

    def test_roles_and_projects(self, api_as, build):
        assert post_xml(api_as("viewer"), f"{BUILD_API}reports/?type=junit", PYTEST_JUNIT).status_code == 403
        outsider = api_as("outsider")
        assert outsider.get(f"{BUILD_API}metrics/").status_code == 404
        assert post_xml(outsider, f"{BUILD_API}reports/?type=junit", PYTEST_JUNIT).status_code == 404
        assert APIClient().get(f"{BUILD_API}metrics/").status_code in (401, 403)
        assert not Metric.objects.exists()

    def test_token_scopes_read_and_write(self, team, build):
        owner = team[1]["owner"]

        def client(plaintext: str) -> APIClient:
            api = APIClient()
            api.credentials(HTTP_AUTHORIZATION=f"Bearer {plaintext}")
            return api

        def personal(scopes) -> APIClient:
            return client(tokens.token_create(user=owner, name="t", scopes=scopes)[1])

        reader, writer = personal(["read"]), personal(["write"])
        url = f"{BUILD_API}reports/?type=junit"
        refused = post_xml(reader, url, PYTEST_JUNIT)
        assert refused.status_code == 403 and refused.json()["error"]["details"]["required_scope"] == "write"
        assert post_xml(personal(["trigger"]), url, PYTEST_JUNIT).status_code == 403
        assert post_xml(writer, url, PYTEST_JUNIT).status_code == 201
        assert reader.get(f"{BUILD_API}metrics/").json()["values"]["tests.total"] == 5
        other, others = make_team("other")
        bot = tokens.project_token_create(project=other, user=others["owner"], name="bot", scopes=["admin"])
        assert client(bot[1]).get(f"{BUILD_API}metrics/").status_code == 404
