"""Remote triggers: tokens (hashed, shown once, replaced on regeneration) and the trigger URL."""

import hashlib

import pytest
from rest_framework.test import APIClient

from apps.core.errors import PermissionDenied
from apps.core.testing import make_team
from apps.process import services
from apps.process.models import Build, RemoteTriggerToken
from apps.process.services.remote import remote_token_generate

pytestmark = pytest.mark.django_db

JOBS = """jobs:
  build:
    runs-on: [linux]
    steps:
      - run: make
"""
REMOTE = """name: deploy
on:
  remote: enabled
  manual:
    inputs:
      target: {type: choice, options: [dev, prod], required: true}
      dry_run: {type: boolean, default: false}
""" + JOBS
NOT_REMOTE = "name: deploy\non: push\n" + JOBS


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def pipeline(team):
    project, users = team
    return services.pipeline_create(project=project, user=users["developer"], name="Deploy", yaml=REMOTE)


@pytest.fixture
def token(team, pipeline):
    return remote_token_generate(pipeline=pipeline, user=team[1]["maintainer"])[1]


def trigger_url(pipeline) -> str:
    return f"/api/v1/remote/{pipeline.project.slug}/{pipeline.slug}/trigger"


def trigger(pipeline, token=None, body=None, query=""):
    client = APIClient(enforce_csrf_checks=True)
    headers = {"HTTP_X_DEVOPS_TOKEN": token} if token is not None else {}
    return client.post(trigger_url(pipeline) + query, body, format="json", **headers)


class TestTokens:
    def test_token_is_stored_hashed(self, team, pipeline):
        row, plaintext = remote_token_generate(pipeline=pipeline, user=team[1]["maintainer"])
        assert plaintext.startswith("rt-") and len(plaintext) > 40
        stored = RemoteTriggerToken.objects.get(pipeline=pipeline)
        assert stored.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
        assert plaintext not in (stored.token_hash, stored.hint)
        assert plaintext.startswith(stored.hint)
        assert stored.created_by == team[1]["maintainer"]

    def test_only_maintainers_generate_tokens(self, team, pipeline):
        with pytest.raises(PermissionDenied):
            remote_token_generate(pipeline=pipeline, user=team[1]["developer"])
        assert not RemoteTriggerToken.objects.exists()

    def test_regenerating_replaces_the_token(self, team, pipeline, token):
        new_token = remote_token_generate(pipeline=pipeline, user=team[1]["owner"])[1]
        assert new_token != token
        assert RemoteTriggerToken.objects.filter(pipeline=pipeline).count() == 1
        old = trigger(pipeline, token, {"inputs": {"target": "dev"}})
        assert old.status_code == 401
        assert trigger(pipeline, new_token, {"inputs": {"target": "dev"}}).status_code == 201


class TestTrigger:
    def test_good_token_starts_a_build_with_inputs(self, pipeline, token):
        inputs = {"target": "prod", "dry_run": "true"}
        body = {"inputs": inputs, "variables": {"LEVEL": 3}, "branch": "release"}
        response = trigger(pipeline, token, body)
        assert response.status_code == 201, response.json()
        data = response.json()["build"]
        build = Build.objects.get(pipeline=pipeline)
        assert data["number"] == build.number == 1
        assert data["url"] == "http://testserver/projects/acme/pipelines/deploy/builds/1/"
        assert build.inputs == {"target": "prod", "dry_run": True}
        assert build.variables == {"LEVEL": "3"}
        assert build.trigger["event"] == "remote"
        assert build.trigger["ref"] == "refs/heads/release"
        assert build.created_by is None
        assert RemoteTriggerToken.objects.get(pipeline=pipeline).last_used_at is not None

    def test_token_in_the_query_string_works_and_branch_defaults_to_main(self, pipeline, token):
        response = trigger(pipeline, body={"inputs": {"target": "dev"}}, query=f"?token={token}")
        assert response.status_code == 201
        assert Build.objects.get(pipeline=pipeline).trigger["ref"] == "refs/heads/main"

    def test_builds_are_numbered_in_turn(self, pipeline, token):
        responses = [trigger(pipeline, token, {"inputs": {"target": "dev"}}) for _ in range(2)]
        assert [response.json()["build"]["number"] for response in responses] == [1, 2]

    @pytest.mark.parametrize("wrong", [None, "", "rt-not-the-token"])
    def test_missing_or_wrong_token_is_401(self, pipeline, token, wrong):
        response = trigger(pipeline, wrong, {"inputs": {"target": "dev"}})
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"
        assert "X-Devops-Token" in response["WWW-Authenticate"]
        assert not Build.objects.exists()

    def test_a_token_opens_only_its_own_pipeline(self, team, pipeline, token):
        project, users = team
        other = services.pipeline_create(project=project, user=users["developer"], name="Other", yaml=REMOTE)
        assert trigger(other, token, {"inputs": {"target": "dev"}}).status_code == 401

    def test_unknown_pipeline_answers_401_like_a_wrong_token(self, pipeline, token):
        response = APIClient().post(
            "/api/v1/remote/acme/nope/trigger", {}, format="json", HTTP_X_DEVOPS_TOKEN=token
        )
        assert response.status_code == 401

    def test_pipeline_without_remote_enabled_is_403_with_the_reason(self, team, pipeline, token):
        services.pipeline_version_create(pipeline=pipeline, user=team[1]["developer"], yaml=NOT_REMOTE)
        response = trigger(pipeline, token, {})
        assert response.status_code == 403
        assert "remote: enabled" in response.json()["error"]["message"]
        assert not Build.objects.exists()

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"inputs": {"target": "staging"}}, "must be one of [dev, prod]"),
            ({}, "input 'target' is required"),
            ({"inputs": {"target": "dev", "colour": "red"}}, "input 'colour' is not declared"),
        ],
    )
    def test_bad_inputs_are_400_with_the_problems(self, pipeline, token, body, expected):
        response = trigger(pipeline, token, body)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert any(expected in problem["message"] for problem in error["details"]["problems"])
        assert not Build.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"inputs": ["dev"]}, "inputs"),
            ({"inputs": {"target": "dev"}, "variables": {"A": {"nested": 1}}}, "variables"),
            ({"inputs": {"target": "dev"}, "branch": "has space"}, "branch"),
            ({"inputs": {"target": "dev"}, "branch": 7}, "branch"),
        ],
    )
    def test_malformed_bodies_are_400(self, pipeline, token, body, field):
        response = trigger(pipeline, token, body)
        assert response.status_code == 400
        assert field in response.json()["error"]["details"]

    def test_archived_pipeline_is_409(self, team, pipeline, token):
        services.pipeline_archive(pipeline=pipeline, user=team[1]["developer"])
        assert trigger(pipeline, token, {"inputs": {"target": "dev"}}).status_code == 409

    def test_get_is_not_allowed(self, pipeline, token):
        response = APIClient().get(trigger_url(pipeline), HTTP_X_DEVOPS_TOKEN=token)
        assert response.status_code == 405


class TestPages:
    def page(self, client, user, pipeline):
        client.force_login(user)
        return client.get(f"/projects/acme/pipelines/{pipeline.slug}/").content.decode()

    def test_maintainers_see_the_url_and_the_generate_button(self, client, team, pipeline):
        page = self.page(client, team[1]["maintainer"], pipeline)
        assert "http://testserver/api/v1/remote/acme/deploy/trigger" in page
        assert "Generate token" in page

    def test_developers_see_the_url_but_no_button(self, client, team, pipeline, token):
        page = self.page(client, team[1]["developer"], pipeline)
        assert "/api/v1/remote/acme/deploy/trigger" in page
        assert "Regenerate token" not in page and "Generate token" not in page
        assert token not in page
        assert RemoteTriggerToken.objects.get().hint in page

    def test_a_disabled_pipeline_says_how_to_enable_it(self, client, team):
        project, users = team
        pipeline = services.pipeline_create(
            project=project, user=users["developer"], name="Push only", yaml=NOT_REMOTE
        )
        assert "Remote triggering is not enabled" in self.page(client, users["viewer"], pipeline)

    def test_generating_shows_the_token_once(self, client, team, pipeline):
        client.force_login(team[1]["maintainer"])
        response = client.post(f"/projects/acme/pipelines/{pipeline.slug}/remote-token/")
        assert response.status_code == 200
        stored = RemoteTriggerToken.objects.get(pipeline=pipeline)
        shown = response.context["plaintext"]
        assert hashlib.sha256(shown.encode()).hexdigest() == stored.token_hash
        assert shown in response.content.decode()
        assert "no-store" in response["Cache-Control"]
        assert shown not in self.page(client, team[1]["maintainer"], pipeline)
        assert trigger(pipeline, shown, {"inputs": {"target": "dev"}}).status_code == 201

    def test_developers_cannot_generate(self, client, team, pipeline):
        client.force_login(team[1]["developer"])
        response = client.post(f"/projects/acme/pipelines/{pipeline.slug}/remote-token/")
        assert response.status_code == 403
        assert not RemoteTriggerToken.objects.exists()
