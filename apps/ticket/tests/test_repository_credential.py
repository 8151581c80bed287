"""The pipeline's repository credential: set over the API and on the pipeline page (maintainers
only, validated), and resolved for the jobs that check the repository out (masked, use recorded,
never for a fork)."""

import pytest
from django.test import Client

from apps.core import services as core_services
from apps.core.testing import make_team
from apps.process.models import Build, JobRun
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.process.services.checkout import with_repository
from apps.process.services.jobs import build_secrets
from apps.process.services.plan_cache import build_with_plan
from apps.ticket.masking import flat_values
from apps.ticket.models import CredentialUse
from apps.ticket.services import credential_create, job_secrets

pytestmark = pytest.mark.django_db

PIPELINE = "/api/v1/projects/acme/pipelines/build/"
PAGE = "/projects/acme/pipelines/build/"
URL = "https://git.example.com/acme/app.git"
PASSWORD = "RepoPassword-27182818"
YAML = """
name: build
jobs:
  plain:
    runs-on: [self-hosted]
    steps:
      - checkout: self
      - run: make
  own:
    runs-on: [self-hosted]
    steps:
      - uses: actions/checkout@v4
        with: { token: "${{ secrets.OTHER }}" }
  none:
    runs-on: [self-hosted]
    steps:
      - run: echo no checkout
"""


@pytest.fixture
def pipeline(project, users):
    return pipeline_create(project=project, user=users["owner"], name="Build", yaml=YAML)


@pytest.fixture
def login(project, users):
    return credential_create(project=project, user=users["owner"], name="GIT_LOGIN",
                             type="username_password", values={"username": "builder", "password": PASSWORD})


def patch(client_as, role: str, body: dict):
    return client_as(role).patch(PIPELINE, body, format="json")


class TestApi:
    def test_a_maintainer_sets_the_repository_and_its_credential(self, client_as, pipeline, login):
        body = {"repository_url": URL, "repository_credential": "GIT_LOGIN"}
        response = patch(client_as, "maintainer", body)
        assert response.status_code == 200, response.content
        assert response.json()["repository_url"] == URL
        assert response.json()["repository_credential"] == "GIT_LOGIN"
        pipeline.refresh_from_db()
        assert (pipeline.repository_url, pipeline.repository_credential) == (URL, "GIT_LOGIN")
        assert client_as("viewer").get(PIPELINE).json()["repository_credential"] == "GIT_LOGIN"

    def test_an_unknown_credential_is_refused(self, client_as, pipeline):
        response = patch(client_as, "owner", {"repository_credential": "NOPE"})
        assert response.status_code == 400
        error = response.json()["error"]
        assert "No credential named NOPE" in error["message"]
        assert "repository_credential" in error["details"]

    def test_a_credential_of_another_project_must_be_shared(self, client_as, pipeline, users):
        other, other_users = make_team("other")
        core_services.member_add(project=other, user=other_users["owner"], username=users["owner"].username,
                                 role="owner")
        credential = credential_create(project=other, user=other_users["owner"], name="THEIRS", type="token",
                                       values={"token": PASSWORD})
        response = patch(client_as, "owner", {"repository_credential": "THEIRS"})
        assert response.status_code == 400, response.content
        credential.shared_with.add(pipeline.project)
        response = patch(client_as, "owner", {"repository_credential": "THEIRS"})
        assert response.status_code == 200, response.content

    def test_a_credential_of_an_unusable_type_is_refused(self, client_as, pipeline, project, users):
        credential_create(project=project, user=users["owner"], name="CERT", type="secret_file",
                          values={"content": "x"})
        response = patch(client_as, "owner", {"repository_credential": "CERT"})
        assert response.status_code == 400
        assert "secret file" in response.json()["error"]["message"]

    @pytest.mark.parametrize(
        "url", ["file:///etc", "-oProxyCommand=x", "https://u:pw@host/r.git", "not a url"]
    )
    def test_a_bad_url_is_refused(self, client_as, pipeline, url):
        response = patch(client_as, "owner", {"repository_url": url})
        assert response.status_code == 400, response.content
        assert "repository_url" in response.json()["error"]["details"]

    @pytest.mark.parametrize("role, status", [("developer", 403), ("viewer", 403), ("outsider", 404),
                                              ("anonymous", 403)])
    def test_only_maintainers_change_it(self, client_as, pipeline, login, role, status):
        response = patch(client_as, role, {"repository_url": URL, "repository_credential": "GIT_LOGIN"})
        assert response.status_code == status, response.content
        pipeline.refresh_from_db()
        assert (pipeline.repository_url, pipeline.repository_credential) == ("", "")

    def test_a_developer_may_send_it_back_unchanged(self, client_as, pipeline, login):
        patch(client_as, "owner", {"repository_url": URL, "repository_credential": "GIT_LOGIN"})
        body = client_as("developer").get(PIPELINE).json()
        response = client_as("developer").put(PIPELINE, {**body, "name": "Renamed"}, format="json")
        assert response.status_code == 200, response.content
        assert response.json()["repository_credential"] == "GIT_LOGIN"


class TestPage:
    def client(self, users, role) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    def test_the_form_is_for_maintainers(self, users, pipeline, login):
        page = self.client(users, "maintainer").get(PAGE).content.decode()
        assert 'action="/projects/acme/pipelines/build/repository/"' in page
        assert '<option value="GIT_LOGIN">GIT_LOGIN</option>' in page
        assert "repository/" not in self.client(users, "developer").get(PAGE).content.decode()

    def test_a_maintainer_saves_it(self, users, pipeline, login):
        response = self.client(users, "maintainer").post(
            f"{PAGE}repository/", {"repository_url": URL, "repository_credential": "GIT_LOGIN"})
        assert response.status_code == 302
        pipeline.refresh_from_db()
        assert (pipeline.repository_url, pipeline.repository_credential) == (URL, "GIT_LOGIN")
        page = self.client(users, "viewer").get(PAGE).content.decode()
        assert URL in page and "GIT_LOGIN" in page and PASSWORD not in page

    def test_a_bad_url_is_shown_on_the_form(self, users, pipeline):
        response = self.client(users, "owner").post(f"{PAGE}repository/", {"repository_url": "ftp://x/y"})
        assert response.status_code == 400
        assert "Give an https://" in response.content.decode()

    def test_a_developer_cannot(self, users, pipeline, login):
        response = self.client(users, "developer").post(
            f"{PAGE}repository/", {"repository_url": URL, "repository_credential": "GIT_LOGIN"})
        assert response.status_code == 403
        pipeline.refresh_from_db()
        assert pipeline.repository_credential == ""


class TestClaim:
    @pytest.fixture
    def build(self, pipeline, users, login):
        type(pipeline).objects.filter(id=pipeline.id).update(repository_url=URL,
                                                             repository_credential="GIT_LOGIN")
        build = build_start(pipeline=pipeline, user=users["owner"])
        return build_with_plan(Build.objects.select_related("pipeline__project").get(id=build.id))

    def job(self, build, job_id: str) -> JobRun:
        job = JobRun.objects.get(build=build, job_id=job_id)
        job.build = build
        return job

    def checkout_step(self, job, secrets) -> dict:
        rendered = {"kind": "checkout", "checkout": {"repository": "self", "with": {}}}
        return with_repository(job, rendered, secrets)["checkout"]

    def test_a_plain_checkout_gets_the_credential_masked_and_recorded(self, build):
        job = self.job(build, "plain")
        secrets = job_secrets(build, job, claim=True)
        assert secrets == {"GIT_LOGIN": {"username": "builder", "password": PASSWORD}}
        checkout = self.checkout_step(job, secrets)
        assert (checkout["url"], checkout["username"], checkout["password"]) == (URL, "builder", PASSWORD)
        assert CredentialUse.objects.filter(job=job, credential__name="GIT_LOGIN").count() == 1
        assert PASSWORD in flat_values(build_secrets(build, job))  # the claim's `mask` and the log mask

    def test_jobs_without_a_plain_checkout_get_nothing(self, build):
        assert job_secrets(build, self.job(build, "none")) == {}
        assert "GIT_LOGIN" not in job_secrets(build, self.job(build, "own"))

    def test_a_fork_gets_nothing(self, build):
        build.trigger = {**build.trigger, "fork": True}
        job = self.job(build, "plain")
        assert job_secrets(build, job, claim=True) == {}
        assert self.checkout_step(job, {})["password"] is None
        assert not CredentialUse.objects.exists()

    def test_another_repository_gets_nothing(self, build):
        build.trigger = {**build.trigger, "repository": "https://git.example.com/someone/else.git"}
        job = self.job(build, "plain")
        assert job_secrets(build, job) == {}
        assert self.checkout_step(job, {})["url"] == "https://git.example.com/someone/else.git"

    def test_the_same_repository_spelled_otherwise_uses_the_pipeline_url(self, build):
        build.trigger = {**build.trigger, "repository": "git@git.example.com:acme/app"}
        job = self.job(build, "plain")
        secrets = job_secrets(build, job)
        assert self.checkout_step(job, secrets)["url"] == URL
        assert self.checkout_step(job, secrets)["password"] == PASSWORD
