"""Stage reviews and quality gates over the REST API, on the database: approve, reject, time out,
a non-reviewer refused; gates that pass, fail, block then get overridden or time out, and a
missing metric. The engine is advanced in place (`build_advance`), as the Celery task would."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.dispatch.services import jobs_sweep
from apps.process.models import Build, StageReview
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.process.services.engine import build_advance
from apps.process.services.stage_checks import overdue_build_ids
from apps.quality.models import GateCheck, Metric

REVIEWED = """
on: {manual: {}}
stages:
  - name: Deploy
    check-in:
      reviews:
        reviewers: [acme-viewer, "role:maintainer"]
        description: "ship ${{ ci.branch }}?"
        timeout-hours: 1
        inputs: {target: {type: choice, options: [dev, prod], default: dev}}
    jobs: {ship: {runs-on: x, steps: [{run: 'echo ${{ variables.target }}'}]}}
"""

GATED = """
on: {manual: {}}
stages:
  - name: Deploy
    check-in:
      gates:
        - name: coverage
          rule: ["coverage.line >= 80"]
          continue-on-fail: {gatekeepers: ["role:maintainer"], timeout-minutes: 30}
    jobs: {ship: {runs-on: x, steps: [{run: 'true'}]}}
"""


@pytest.fixture
def team(db):
    return make_team()


def started(team, yaml: str, metrics: dict | None = None) -> Build:
    project, users = team
    pipeline = pipeline_create(project=project, user=users["owner"], name="Release", yaml=yaml)
    build = build_start(pipeline=pipeline, user=users["developer"])
    for name, value in (metrics or {}).items():
        Metric.objects.create(build=build, name=name, value=value)
    build_advance(build.id)
    build.refresh_from_db()
    return build


def post(team, role: str, build: Build, what: str, body: dict | None = None):
    client = APIClient()
    client.force_authenticate(team[1][role])
    url = f"/api/v1/projects/acme/pipelines/release/builds/{build.number}/stages/0/{what}/"
    return client.post(url, body or {}, format="json")


def test_a_build_waits_for_review_and_shows_who_may_approve(team):
    build = started(team, REVIEWED)
    assert build.status == "waiting_review"
    client = APIClient()
    client.force_authenticate(team[1]["viewer"])
    data = client.get(f"/api/v1/projects/acme/pipelines/release/builds/{build.number}/").json()
    (review,) = data["reviews"]
    assert review["reviewers"] == ["acme-viewer", "role:maintainer"]
    assert review["description"] == "ship main?"
    assert review["status"] == "waiting"
    assert data["stages"][0]["status"] == "waiting_review"


def test_a_listed_reviewer_approves_with_values_that_become_variables(team):
    build = started(team, REVIEWED)
    response = post(team, "viewer", build, "approve", {"comment": "go", "values": {"target": "prod"}})
    assert response.status_code == 200, response.json()
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "running" and build.variables["target"] == "prod"
    assert build.jobs.get().status == "queued"
    review = StageReview.objects.get()
    assert (review.status, review.comment, review.decided_by) == ("approved", "go", team[1]["viewer"])
    assert post(team, "maintainer", build, "approve").status_code == 409


def test_a_bad_review_value_is_refused_with_the_input_named(team):
    build = started(team, REVIEWED)
    response = post(team, "maintainer", build, "approve", {"values": {"target": "moon"}})
    assert response.status_code == 400
    assert "target" in response.json()["error"]["details"]


def test_a_reviewer_not_listed_is_refused(team):
    build = started(team, REVIEWED)
    response = post(team, "developer", build, "approve")
    assert response.status_code == 403
    assert "not one of this stage's reviewers" in response.json()["error"]["message"]
    assert post(team, "outsider", build, "approve").status_code == 404
    assert StageReview.objects.get().status == "waiting"


def test_rejecting_cancels_the_build_with_the_comment(team):
    build = started(team, REVIEWED)
    assert post(team, "maintainer", build, "reject", {"comment": "not on a Friday"}).status_code == 200
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "canceled"
    assert (
        build.reason == "stage Deploy canceled: the review was rejected by acme-maintainer: not on a Friday"
    )
    assert build.jobs.get().status == "canceled"


def test_a_review_past_its_timeout_is_rejected_by_the_sweep(team):
    build = started(team, REVIEWED)
    StageReview.objects.update(deadline=timezone.now() - timedelta(seconds=1))
    assert overdue_build_ids(timezone.now()) == {build.id}
    jobs_sweep()
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "canceled" and "the review timed out after 1 hours" in build.reason
    assert StageReview.objects.get().status == "timed_out"


def test_a_passing_gate_lets_the_stage_run_and_is_recorded(team):
    build = started(team, GATED, {"coverage.line": 91.5})
    assert build.status == "running"
    check = GateCheck.objects.get()
    assert (check.result, check.control_point, check.gate_name) == ("passed", "check-in", "coverage")
    assert check.indicators[0]["value"] == 91.5


def test_a_blocked_gate_waits_for_a_gatekeeper_who_overrides_with_a_comment(team):
    build = started(team, GATED, {"coverage.line": 42})
    assert build.status == "blocked"
    assert "coverage.line is 42 (wanted coverage.line >= 80)" in build.stages.get().reason
    assert post(team, "developer", build, "override", {"comment": "hotfix"}).status_code == 403
    assert post(team, "maintainer", build, "override").status_code == 400
    assert post(team, "maintainer", build, "override", {"comment": "hotfix"}).status_code == 200
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "running" and build.jobs.get().status == "queued"
    check = GateCheck.objects.get()
    assert (check.result, check.comment, check.decided_by) == ("overridden", "hotfix", team[1]["maintainer"])
    assert post(team, "maintainer", build, "override", {"comment": "again"}).status_code == 409


def test_a_blocked_gate_fails_the_build_when_its_timeout_passes(team):
    build = started(team, GATED, {"coverage.line": 42})
    GateCheck.objects.update(deadline=timezone.now() - timedelta(seconds=1))
    assert overdue_build_ids(timezone.now()) == {build.id}
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "failed" and "not overridden in time" in build.reason
    assert GateCheck.objects.get().result == "timed_out"


def test_a_missing_metric_without_gatekeepers_fails_the_build_as_not_reported(team):
    build = started(
        team,
        GATED.replace(
            '          continue-on-fail: {gatekeepers: ["role:maintainer"], timeout-minutes: 30}\n', ""
        ),
    )
    assert build.status == "failed"
    assert "coverage.line not reported" in build.reason
    assert GateCheck.objects.get().result == "failed"


def test_a_stage_the_build_does_not_have_is_not_found(team):
    build = started(team, REVIEWED)
    client = APIClient()
    client.force_authenticate(team[1]["maintainer"])
    base = f"/api/v1/projects/acme/pipelines/release/builds/{build.number}/stages"
    assert client.post(f"{base}/7/approve/", {}, format="json").status_code == 404
    assert (
        client.post(f"{base}/99999999999999999999/override/", {"comment": "x"}, format="json").status_code
        == 404
    )
