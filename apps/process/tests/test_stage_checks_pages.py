"""The build page's reviews and blocked gates: who sees a form, approve / reject / override from
the page, and a refused decision shown as a message."""

import pytest
from django.test import Client

from apps.core.testing import make_team
from apps.process.models import StageReview
from apps.process.services.engine import build_advance
from apps.process.tests.test_stage_checks_api import GATED, REVIEWED, started
from apps.quality.models import GateCheck

PAGE = "/projects/acme/pipelines/release/builds/1/"


@pytest.fixture
def team(db):
    return make_team()


def client_as(team, role: str) -> Client:
    client = Client()
    client.force_login(team[1][role])
    return client


def test_a_reviewer_sees_the_description_the_inputs_and_the_buttons(team):
    started(team, REVIEWED)
    html = client_as(team, "viewer").get(PAGE).content.decode()
    assert "Review of stage Deploy" in html and "ship main?" in html
    assert 'name="review0-input_target"' in html and 'value="approve"' in html
    other = client_as(team, "developer").get(PAGE).content.decode()
    assert "You are not one of the reviewers of this stage." in other and 'value="approve"' not in other


def test_approving_from_the_page_records_the_values_and_runs_the_stage(team):
    build = started(team, REVIEWED)
    form = {"decision": "approve", "review0-input_target": "prod", "review0-comment": "ok"}
    response = client_as(team, "maintainer").post(f"{PAGE}stages/0/review/", form, follow=True)
    assert "Stage approved." in response.content.decode()
    build_advance(build.id)
    build.refresh_from_db()
    assert build.variables["target"] == "prod" and build.status == "running"
    html = client_as(team, "viewer").get(PAGE).content.decode()
    assert "Approved by acme-maintainer" in html and "target=prod" in html


def test_a_refused_decision_is_shown_and_changes_nothing(team):
    started(team, REVIEWED)
    response = client_as(team, "developer").post(
        f"{PAGE}stages/0/review/", {"decision": "approve"}, follow=True
    )
    assert "not one of this stage&#x27;s reviewers" in response.content.decode()
    assert StageReview.objects.get().status == "waiting"


def test_rejecting_from_the_page_cancels_the_build(team):
    build = started(team, REVIEWED)
    client_as(team, "maintainer").post(
        f"{PAGE}stages/0/review/", {"decision": "reject", "review0-comment": "no"}
    )
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "canceled"


def test_a_gatekeeper_overrides_a_blocked_gate_from_the_page(team):
    build = started(team, GATED, {"coverage.line": 10})
    html = client_as(team, "maintainer").get(PAGE).content.decode()
    assert "Quality gate blocked stage Deploy" in html and "coverage.line is 10" in html
    assert "Only its gatekeepers" in client_as(team, "developer").get(PAGE).content.decode()
    response = client_as(team, "maintainer").post(
        f"{PAGE}stages/0/override/", {"comment": "known"}, follow=True
    )
    assert "The blocked gate was overridden" in response.content.decode()
    assert GateCheck.objects.get().result == "overridden"
    build_advance(build.id)
    build.refresh_from_db()
    assert build.status == "running"
