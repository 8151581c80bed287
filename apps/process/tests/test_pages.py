"""Process pages: a project's home, pipeline create/edit (with problems), versions and diffs."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils.html import escape

from apps.core.testing import make_team
from apps.process import services
from apps.process.models import Pipeline, PipelineVersion
from apps.process.tests.samples import HELLO, HELLO_TWICE, TWO_PROBLEM_LINES, TWO_PROBLEMS

pytestmark = pytest.mark.django_db

PIPELINE = "/projects/acme/pipelines/build/"


@pytest.fixture
def team():
    project, users = make_team()
    services.pipeline_create(project=project, user=users["owner"], name="Build", yaml=HELLO)
    services.pipeline_update(
        pipeline=Pipeline.objects.get(slug="build"), user=users["owner"], yaml=HELLO_TWICE
    )
    services.pipeline_create(project=project, user=users["owner"], name="Deploy", yaml=HELLO)
    return project, users


def client_for(team, role) -> Client:
    client = Client()
    client.force_login(team[1][role])
    return client


READ_PAGES = [
    "/projects/acme/",
    PIPELINE,
    f"{PIPELINE}versions/1/",
    f"{PIPELINE}diff/?from=1&to=2",
]
WRITE_PAGES = ["/projects/acme/new-pipeline/", f"{PIPELINE}edit/"]


@pytest.mark.parametrize("url", READ_PAGES)
@pytest.mark.parametrize(
    "role, status",
    [
        ("owner", 200),
        ("maintainer", 200),
        ("developer", 200),
        ("viewer", 200),
        ("superuser", 200),
        ("outsider", 404),
    ],
)
def test_read_pages_by_role(team, url, role, status):
    assert client_for(team, role).get(url).status_code == status


@pytest.mark.parametrize("url", WRITE_PAGES)
@pytest.mark.parametrize(
    "role, status",
    [("owner", 200), ("maintainer", 200), ("developer", 200), ("viewer", 403), ("outsider", 404)],
)
def test_write_pages_by_role(team, url, role, status):
    assert client_for(team, role).get(url).status_code == status


@pytest.mark.parametrize("url", READ_PAGES + WRITE_PAGES)
def test_anonymous_is_sent_to_login(team, url):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_project_page_lists_and_filters_pipelines(team):
    owner, viewer = client_for(team, "owner"), client_for(team, "viewer")
    content = owner.get("/projects/acme/").content.decode()
    assert "/projects/acme/pipelines/build/" in content and "/projects/acme/pipelines/deploy/" in content
    assert "acme-viewer" in content and "Add member" in content and "New pipeline" in content
    filtered = owner.get("/projects/acme/?name=dep").content.decode()
    assert (
        "/projects/acme/pipelines/deploy/" in filtered and "/projects/acme/pipelines/build/" not in filtered
    )
    as_viewer = viewer.get("/projects/acme/").content.decode()
    assert "Add member" not in as_viewer and "New pipeline" not in as_viewer
    assert "/members/acme-developer/remove/" not in as_viewer


def test_create_a_pipeline_from_the_form(team):
    client = client_for(team, "developer")
    response = client.post(
        "/projects/acme/new-pipeline/", {"name": "Lint", "yaml": HELLO, "message": "first"}
    )
    assert response.status_code == 302 and response["Location"] == "/projects/acme/pipelines/lint/"
    page = client.get("/projects/acme/pipelines/lint/").content.decode()
    assert "echo hello" in page and "first" in page


def test_edit_shows_every_problem_with_line_numbers(team):
    client = client_for(team, "developer")
    response = client.post(f"{PIPELINE}edit/", {"name": "Build", "yaml": TWO_PROBLEMS})
    assert response.status_code == 400
    content = response.content.decode()
    problems = response.context["problems"]
    assert len(problems) >= 2
    for problem in problems:
        assert f"{problem['line']}:{problem['column']}</a>: {escape(problem['message'])}" in content
    highlighted = {int(number) for number in re.findall(r'<tr id="L(\d+)" class="problem-line">', content)}
    assert highlighted == {problem["line"] for problem in problems} >= TWO_PROBLEM_LINES
    assert len(re.findall(r'<tr id="L\d+"', content)) == TWO_PROBLEMS.count("\n")
    assert "jobz: {}" in content
    assert Pipeline.objects.get(slug="build").current_version.number == 2


def test_edit_saves_a_new_version_and_ignores_crlf(team):
    client = client_for(team, "developer")
    crlf = HELLO_TWICE.replace("\n", "\r\n")
    response = client.post(f"{PIPELINE}edit/", {"name": "Build 2", "yaml": crlf})
    assert response.status_code == 302
    pipeline = Pipeline.objects.get(slug="build")
    assert pipeline.name == "Build 2" and pipeline.current_version.number == 2
    client.post(f"{PIPELINE}edit/", {"name": "Build 2", "yaml": HELLO, "message": "back"})
    assert Pipeline.objects.get(slug="build").current_version.number == 3


def test_edit_refuses_a_yaml_over_the_limit_with_413(team):
    big = HELLO + "#" * settings.PIPELINE_MAX_BYTES + "\n"
    response = client_for(team, "developer").post(f"{PIPELINE}edit/", {"name": "Build", "yaml": big})
    assert response.status_code == 413
    assert b"the limit is" in response.content
    assert PipelineVersion.objects.filter(pipeline__slug="build").count() == 2


def test_version_page_numbers_lines_and_shows_sha256(team):
    version = PipelineVersion.objects.get(pipeline__slug="build", number=1)
    content = client_for(team, "viewer").get(f"{PIPELINE}versions/1/").content.decode()
    assert version.sha256 in content
    assert len(re.findall(r'<tr id="L\d+"', content)) == HELLO.count("\n")
    assert client_for(team, "viewer").get(f"{PIPELINE}versions/9/").status_code == 404


def test_diff_page_colours_added_lines(team):
    content = client_for(team, "viewer").get(f"{PIPELINE}diff/?from=1&to=2").content.decode()
    assert '<span class="diff-added">+      - run: echo hello again</span>' in content
    assert '<span class="diff-hunk">@@' in content
    assert "diff-removed" not in content
    default = client_for(team, "viewer").get(f"{PIPELINE}diff/")
    assert (default.context["first"].number, default.context["second"].number) == (1, 2)


def test_archive_and_restore_from_the_page(team):
    assert client_for(team, "viewer").post(f"{PIPELINE}archive/").status_code == 403
    assert client_for(team, "developer").post(f"{PIPELINE}archive/").status_code == 302
    assert Pipeline.objects.get(slug="build").is_archived
    assert client_for(team, "developer").post(f"{PIPELINE}restore/").status_code == 302
    assert not Pipeline.objects.get(slug="build").is_archived


@pytest.mark.parametrize("role, shown", [("maintainer", True), ("developer", False), ("viewer", False)])
def test_the_pipeline_page_links_its_webhook_settings_for_maintainers(team, role, shown):
    page = client_for(team, role).get(PIPELINE).content.decode()
    assert (f'href="{PIPELINE}webhook/"' in page) is shown


def test_the_project_page_links_credentials_and_bot_tokens(team):
    page = client_for(team, "viewer").get("/projects/acme/").content.decode()
    assert 'href="/projects/acme/credentials/"' in page and 'href="/projects/acme/tokens/"' in page
