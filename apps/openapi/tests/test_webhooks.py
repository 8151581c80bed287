"""Inbound webhooks: recorded-shaped GitHub, GitLab and Gitea/Forgejo payloads, right and wrong
signatures, branch/tag/path/action filters, deduplication, and the settings API and page."""

import json

import pytest
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.openapi.choices import DeliveryOutcome
from apps.openapi.models import WebhookDelivery
from apps.openapi.tests.helpers import fixture, gitea_headers, github_headers, gitlab_headers
from apps.openapi.webhooks.services import webhook_settings_update
from apps.process import services
from apps.process.models import Build

pytestmark = pytest.mark.django_db

JOBS = "jobs:\n  build:\n    runs-on: [linux]\n    steps:\n      - run: make\n"
FILTERED = (
    """name: app
on:
  push:
    branches: [main, develop]
    paths-ignore: ["docs/**"]
  tag:
    tags: ["v*"]
  pull_request:
    branches: [main, master]
"""
    + JOBS
)


@pytest.fixture
def team():
    return make_team()


def make_pipeline(team, yaml=FILTERED, slug=None):
    project, users = team
    return services.pipeline_create(project=project, user=users["developer"], name=slug or "App", yaml=yaml)


@pytest.fixture
def pipeline(team):
    return make_pipeline(team)


@pytest.fixture
def secret(team, pipeline):
    return webhook_settings_update(pipeline=pipeline, user=team[1]["maintainer"])[1]


def post(pipeline, payload, headers_for, secret, event, delivery=None, **extra):
    body = json.dumps(payload).encode()
    headers = headers_for(secret, body, event, delivery, **extra)
    url = f"/api/webhooks/{pipeline.project.slug}/{pipeline.slug}/"
    return APIClient(enforce_csrf_checks=True).post(url, body, content_type="application/json", **headers)


def only_build(pipeline) -> Build:
    builds = list(Build.objects.filter(pipeline=pipeline))
    assert len(builds) == 1
    return builds[0]


class TestGitHub:
    def test_push_starts_a_build_with_the_events_facts(self, pipeline, secret):
        response = post(pipeline, fixture("github_push"), github_headers, secret, "push", "d-1")
        assert response.status_code == 201, response.json()
        assert response.json()["outcome"] == "started" and response.json()["build_number"] == 1
        build = only_build(pipeline)
        trigger = build.trigger
        assert trigger["event"] == "push" and trigger["ref"] == "refs/heads/main"
        assert trigger["sha"] == "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c" and trigger["actor"] == "octocat"
        assert sorted(trigger["changed_files"]) == ["README.md", "src/lexer.py", "src/parser.py"]
        assert trigger["repository"] == "https://github.com/octo-org/hello-world.git"
        assert trigger["fork"] is False and trigger["provider"] == "github" and trigger["delivery"] == "d-1"
        delivery = WebhookDelivery.objects.get(delivery_id="d-1")
        assert delivery.build == build and delivery.outcome == DeliveryOutcome.STARTED
        assert "matches the push trigger" in delivery.reason

    def test_wrong_signature_gets_401_and_starts_nothing(self, pipeline, secret):
        response = post(pipeline, fixture("github_push"), github_headers, "not-the-secret", "push", "d-2")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "authentication_failed"
        assert not Build.objects.exists()
        assert WebhookDelivery.objects.get(delivery_id="d-2").outcome == DeliveryOutcome.REJECTED
        # The rejected forgery does not block the real delivery with the same id.
        assert (
            post(pipeline, fixture("github_push"), github_headers, secret, "push", "d-2").status_code == 201
        )

    def test_missing_signature_gets_401(self, pipeline, secret):
        body = json.dumps(fixture("github_push")).encode()
        url = f"/api/webhooks/{pipeline.project.slug}/{pipeline.slug}/"
        headers = {"HTTP_X_GITHUB_EVENT": "push", "HTTP_X_GITHUB_DELIVERY": "d-3"}
        response = APIClient().post(url, body, content_type="application/json", **headers)
        assert response.status_code == 401 and not Build.objects.exists()

    def test_redelivery_is_deduplicated(self, pipeline, secret):
        first = post(pipeline, fixture("github_push"), github_headers, secret, "push", "same")
        second = post(pipeline, fixture("github_push"), github_headers, secret, "push", "same")
        assert first.status_code == 201 and second.status_code == 200
        assert second.json()["duplicate"] is True and second.json()["build_number"] == 1
        assert Build.objects.count() == 1 and WebhookDelivery.objects.count() == 1

    def test_branch_filter_skips_with_the_reason(self, pipeline, secret):
        payload = {**fixture("github_push"), "ref": "refs/heads/feature/x"}
        response = post(pipeline, payload, github_headers, secret, "push")
        assert response.status_code == 202 and response.json()["outcome"] == "skipped"
        assert "does not match branches [main, develop]" in response.json()["reason"]
        assert not Build.objects.exists()

    def test_paths_ignore_skips_a_docs_only_push(self, pipeline, secret):
        payload = fixture("github_push")
        for commit in payload["commits"]:
            commit.update(added=["docs/a.md"], modified=["docs/b.md"], removed=[])
        response = post(pipeline, payload, github_headers, secret, "push")
        assert response.json()["outcome"] == "skipped"
        assert "paths-ignore" in response.json()["reason"]

    def test_deleted_branch_is_ignored(self, pipeline, secret):
        payload = {**fixture("github_push"), "deleted": True, "after": "0" * 40, "commits": []}
        response = post(pipeline, payload, github_headers, secret, "push")
        assert response.status_code == 202 and response.json()["outcome"] == "ignored"

    def test_tag_push_matches_the_tag_filter(self, pipeline, secret):
        payload = {**fixture("github_push"), "ref": "refs/tags/v2.1.0"}
        assert post(pipeline, payload, github_headers, secret, "push").status_code == 201
        assert only_build(pipeline).trigger["event"] == "tag"
        other = {**fixture("github_push"), "ref": "refs/tags/nightly"}
        response = post(pipeline, other, github_headers, secret, "push")
        assert response.json()["outcome"] == "skipped" and Build.objects.count() == 1

    def test_fork_pull_request_builds_and_is_marked_as_a_fork(self, pipeline, secret):
        response = post(pipeline, fixture("github_pull_request"), github_headers, secret, "pull_request")
        assert response.status_code == 201, response.json()
        trigger = only_build(pipeline).trigger
        assert trigger["event"] == "pull_request" and trigger["action"] == "opened"
        assert trigger["ref"] == "refs/heads/faster-parser" and trigger["base_ref"] == "refs/heads/main"
        assert trigger["fork"] is True and trigger["actor"] == "contributor"
        assert trigger["repository"] == "https://github.com/contributor/hello-world.git"
        assert WebhookDelivery.objects.get().is_fork is True

    def test_pull_request_actions_outside_the_defaults_do_not_build(self, pipeline, secret):
        payload = {**fixture("github_pull_request"), "action": "labeled"}
        response = post(pipeline, payload, github_headers, secret, "pull_request")
        assert response.json()["outcome"] == "skipped" and "labeled" in response.json()["reason"]

    def test_pull_request_types_choose_the_actions(self, team, secret):
        yaml = "on:\n  pull_request:\n    types: [closed]\n" + JOBS
        pipeline = make_pipeline(team, yaml, "Closer")
        own_secret = webhook_settings_update(pipeline=pipeline, user=team[1]["owner"])[1]
        opened = post(pipeline, fixture("github_pull_request"), github_headers, own_secret, "pull_request")
        assert opened.json()["outcome"] == "skipped" and "types [closed]" in opened.json()["reason"]
        closed = {**fixture("github_pull_request"), "action": "closed"}
        assert post(pipeline, closed, github_headers, own_secret, "pull_request").status_code == 201

    def test_pull_request_paths_cannot_be_checked_so_it_builds(self, team):
        yaml = "on:\n  pull_request:\n    paths: [src/**]\n" + JOBS
        pipeline = make_pipeline(team, yaml, "Paths")
        secret = webhook_settings_update(pipeline=pipeline, user=team[1]["owner"])[1]
        response = post(pipeline, fixture("github_pull_request"), github_headers, secret, "pull_request")
        assert response.status_code == 201
        assert "paths filters not checked" in response.json()["reason"]

    def test_ping_and_unknown_events_are_ignored_with_202(self, pipeline, secret):
        ping = post(pipeline, fixture("github_ping"), github_headers, secret, "ping")
        assert (
            ping.status_code == 202
            and ping.json()["outcome"] == "ignored"
            and "ping" in ping.json()["reason"]
        )
        star = post(pipeline, {"action": "created"}, github_headers, secret, "star")
        assert star.status_code == 202 and star.json()["reason"].startswith("ignored")
        assert not Build.objects.exists()

    def test_repository_setting_refuses_other_repositories(self, team, pipeline, secret):
        webhook_settings_update(
            pipeline=pipeline, user=team[1]["owner"], repository_url="git@github.com:me/other"
        )
        response = post(pipeline, fixture("github_push"), github_headers, secret, "push")
        assert (
            response.json()["outcome"] == "skipped"
            and "not from the pipeline's repository" in response.json()["reason"]
        )
        webhook_settings_update(
            pipeline=pipeline, user=team[1]["owner"], repository_url="git@github.com:octo-org/hello-world.git"
        )
        assert post(pipeline, fixture("github_push"), github_headers, secret, "push").status_code == 201

    def test_the_pipeline_repository_is_the_default(self, team, pipeline, secret):
        owner = team[1]["owner"]
        services.pipeline_repository_update(
            pipeline=pipeline, user=owner, repository_url="git@github.com:me/other"
        )
        response = post(pipeline, fixture("github_push"), github_headers, secret, "push")
        assert "not from the pipeline's repository" in response.json()["reason"]
        services.pipeline_repository_update(
            pipeline=pipeline, user=owner, repository_url="https://github.com/octo-org/hello-world"
        )
        assert post(pipeline, fixture("github_push"), github_headers, secret, "push").status_code == 201

    def test_a_pipeline_that_cannot_start_records_the_failure(self, team, pipeline, secret):
        services.pipeline_archive(pipeline=pipeline, user=team[1]["developer"])
        response = post(pipeline, fixture("github_push"), github_headers, secret, "push")
        assert response.status_code == 202 and response.json()["outcome"] == "failed"
        assert "archived" in response.json()["reason"] and not Build.objects.exists()

    def test_no_webhook_set_up_is_404(self, team):
        pipeline = make_pipeline(team, slug="Bare")
        response = post(pipeline, fixture("github_push"), github_headers, "x", "push")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


class TestGitLab:
    def test_push_to_develop_builds_with_changed_files(self, pipeline, secret):
        response = post(pipeline, fixture("gitlab_push"), gitlab_headers, secret, "Push Hook", "g-1")
        assert response.status_code == 201, response.json()
        trigger = only_build(pipeline).trigger
        assert trigger["ref"] == "refs/heads/develop" and trigger["actor"] == "jsmith"
        assert trigger["sha"] == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
        assert sorted(trigger["changed_files"]) == [
            "CHANGELOG",
            "app/controller/application.rb",
            "docs/old.md",
        ]
        assert trigger["repository"] == "http://example.com/mike/diaspora.git"

    def test_wrong_token_gets_401(self, pipeline, secret):
        response = post(pipeline, fixture("gitlab_push"), gitlab_headers, secret + "x", "Push Hook")
        assert response.status_code == 401 and not Build.objects.exists()

    def test_truncated_commit_list_means_paths_are_not_checked(self, pipeline, secret):
        payload = fixture("gitlab_push")
        for commit in payload["commits"]:
            commit.update(added=["docs/a.md"], modified=[], removed=[])
        payload["total_commits_count"] = 40
        response = post(pipeline, payload, gitlab_headers, secret, "Push Hook")
        assert response.status_code == 201 and "paths filters not checked" in response.json()["reason"]

    def test_tag_push(self, pipeline, secret):
        response = post(pipeline, fixture("gitlab_tag_push"), gitlab_headers, secret, "Tag Push Hook")
        assert response.status_code == 201, response.json()
        trigger = only_build(pipeline).trigger
        assert trigger["event"] == "tag" and trigger["ref"] == "refs/tags/v1.0.0"

    def test_merge_request_from_another_project_is_a_fork(self, pipeline, secret):
        response = post(
            pipeline, fixture("gitlab_merge_request"), gitlab_headers, secret, "Merge Request Hook"
        )
        assert response.status_code == 201, response.json()
        trigger = only_build(pipeline).trigger
        assert (trigger["event"], trigger["action"], trigger["fork"]) == ("pull_request", "opened", True)
        assert trigger["ref"] == "refs/heads/ms-viewport" and trigger["base_ref"] == "refs/heads/master"
        assert trigger["actor"] == "root"

    def test_merge_request_update_with_new_commits_is_synchronize(self, pipeline, secret):
        payload = fixture("gitlab_merge_request")
        payload["object_attributes"].update(action="update", oldrev="aaaa", source_project_id=1)
        response = post(pipeline, payload, gitlab_headers, secret, "Merge Request Hook")
        assert response.status_code == 201
        trigger = only_build(pipeline).trigger
        assert trigger["action"] == "synchronize" and trigger["fork"] is False

    def test_same_uuid_is_a_duplicate(self, pipeline, secret):
        post(pipeline, fixture("gitlab_push"), gitlab_headers, secret, "Push Hook", "uuid-1")
        again = post(pipeline, fixture("gitlab_push"), gitlab_headers, secret, "Push Hook", "uuid-1")
        assert again.status_code == 200 and again.json()["duplicate"] and Build.objects.count() == 1


class TestGiteaAndForgejo:
    def test_gitea_push(self, pipeline, secret):
        response = post(pipeline, fixture("gitea_push"), gitea_headers, secret, "push", "t-1")
        assert response.status_code == 202 and response.json()["outcome"] == "skipped"
        assert "paths-ignore" in response.json()["reason"]  # only docs/ changed
        assert WebhookDelivery.objects.get().provider == "gitea"

    def test_forgejo_push_of_code_builds(self, pipeline, secret):
        payload = fixture("gitea_push")
        payload["commits"][0]["modified"] = ["main.go"]
        response = post(pipeline, payload, gitea_headers, secret, "push", forgejo=True)
        assert response.status_code == 201, response.json()
        assert only_build(pipeline).trigger["actor"] == "gitea"

    def test_gitea_wrong_signature(self, pipeline, secret):
        response = post(pipeline, fixture("gitea_push"), gitea_headers, "wrong", "push")
        assert response.status_code == 401 and not Build.objects.exists()

    def test_gitea_pull_request_synchronized(self, pipeline, secret):
        response = post(pipeline, fixture("gitea_pull_request"), gitea_headers, secret, "pull_request")
        assert response.status_code == 201, response.json()
        trigger = only_build(pipeline).trigger
        assert trigger["action"] == "synchronize" and trigger["fork"] is False and trigger["actor"] == "alice"


class TestSettingsApiAndPage:
    def test_maintainer_creates_the_webhook_and_sees_the_secret_once(self, team, pipeline):
        project, users = team
        client = APIClient()
        client.force_login(users["maintainer"])
        url = f"/api/v1/projects/{project.slug}/pipelines/{pipeline.slug}/webhook/"
        assert client.get(url).status_code == 404
        created = client.put(url, {"repository_url": ""}, format="json").json()
        assert created["secret"].startswith("whs_") and created["url"].endswith(
            f"/api/webhooks/acme/{pipeline.slug}/"
        )
        shown = client.get(url).json()
        assert shown["secret"] is None and created["secret"].startswith(shown["secret_hint"])
        developer = APIClient()
        developer.force_login(users["developer"])
        assert developer.get(url).status_code == 403

    def test_deliveries_api_and_page(self, team, pipeline, secret):
        project, users = team
        post(pipeline, fixture("github_push"), github_headers, secret, "push", "page-1")
        client = APIClient()
        client.force_login(users["viewer"])
        api = client.get(f"/api/v1/projects/{project.slug}/pipelines/{pipeline.slug}/webhook-deliveries/")
        assert api.status_code == 200 and api.json()["results"][0]["delivery_id"] == "page-1"
        assert api.json()["results"][0]["build_number"] == 1
        client.force_login(users["maintainer"])
        page = client.get(f"/projects/{project.slug}/pipelines/{pipeline.slug}/webhook/")
        assert page.status_code == 200 and b"page-1" in page.content and b"#1" in page.content
