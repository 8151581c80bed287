"""Build pages: the run form on the pipeline page, the builds table, a build's page (stages, matrix
jobs, steps, log), its live status fragment, cancel/retry buttons by role, the dashboard and admin."""

import re

import pytest
from django.test import Client
from django.utils import timezone

from apps.environment import services as environment_services
from apps.process.choices import Status
from apps.process.forms_builds import BuildRunForm
from apps.process.models import Build, JobRun, StepRun
from apps.process.services import pipeline_archive
from apps.process.templatetags import build_tags
from apps.process.tests.builds_samples import *  # noqa: F403 (the fixtures)
from apps.process.tests.builds_samples import PIPELINE_PAGE, ROLES, WRITERS, write_log

BUILD_PAGE = f"{PIPELINE_PAGE}/builds/1/"


@pytest.fixture
def browser_as(users, pipeline):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    return make


def html(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def field_tag(page: str, name: str) -> str:
    match = re.search(rf'<(input|select)[^>]*name="{name}"[^>]*>', page)
    assert match, f"no field {name}"
    return match.group(0)


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


class TestRunForm:
    def test_each_input_type_gets_its_field(self, browser_as):
        run = section(html(browser_as("developer").get(f"{PIPELINE_PAGE}/")), "run")
        assert "<select" in field_tag(run, "input_target")
        options = r'<option value="dev" selected>dev</option>\s*<option value="prod">prod</option>'
        assert re.search(options, run)
        version = field_tag(run, "input_version")
        assert 'type="text"' in version and "required" in version
        assert 'type="checkbox"' in field_tag(run, "input_dry_run")
        replicas = field_tag(run, "input_replicas")
        assert 'type="number"' in replicas and 'value="2"' in replicas
        assert 'type="text"' in field_tag(run, "input_region"), "no node group yet: a text field"
        assert 'value="main"' in field_tag(run, "branch")
        for description in ("Where to deploy", "Version to release", "Only print what would change"):
            assert re.search(rf'<p class="help" id="id_input_\w+_helptext">{description}</p>', run)
        required = re.findall(r'for="id_input_(\w+)">\w+ <span class="required"', run)
        assert required == ["target", "version"]

    def test_environment_inputs_choose_among_node_groups(self, browser_as, users, team):
        project = team[0]
        for name in ("staging", "production"):
            environment_services.node_group_create(project=project, user=users["owner"], name=name)
        run = section(html(browser_as("developer").get(f"{PIPELINE_PAGE}/")), "run")
        start = run.index('name="input_region"')
        region = run[start : run.index("</select>", start)]
        assert re.findall(r'<option value="([^"]*)"', region) == ["", "production", "staging"]

    def test_viewers_see_builds_but_no_run_form(self, browser_as):
        page = html(browser_as("viewer").get(f"{PIPELINE_PAGE}/"))
        assert 'id="builds"' in page and 'id="run"' not in page
        assert browser_as("viewer").get(f"{PIPELINE_PAGE}/run/").status_code == 403
        assert browser_as("viewer").post(f"{PIPELINE_PAGE}/run/", {"input_version": "1"}).status_code == 403
        assert not Build.objects.exists()

    def test_submitting_starts_a_build_and_opens_its_page(self, browser_as, users):
        form = {
            "input_target": "prod",
            "input_version": "3.1",
            "input_dry_run": "on",
            "input_replicas": "4",
            "branch": "release",
        }
        response = browser_as("developer").post(f"{PIPELINE_PAGE}/run/", form)
        assert response.status_code == 302 and response["Location"] == BUILD_PAGE
        build = Build.objects.get()
        assert build.inputs == {
            "target": "prod", "version": "3.1", "dry_run": True, "replicas": 4, "region": ""
        }
        assert build.trigger["event"] == "manual" and build.trigger["ref"] == "refs/heads/release"
        assert build.created_by == users["developer"]

    def test_a_missing_required_input_shows_the_form_again(self, browser_as):
        form = {"input_target": "dev", "branch": "main"}
        page = html(browser_as("developer").post(f"{PIPELINE_PAGE}/run/", form))
        assert "This field is required." in page and 'name="input_version"' in page
        assert not Build.objects.exists()

    def test_an_archived_pipeline_does_not_start(self, browser_as, pipeline, users):
        pipeline_archive(pipeline=pipeline, user=users["owner"])
        assert 'id="run"' not in html(browser_as("developer").get(f"{PIPELINE_PAGE}/"))
        form = {"input_target": "dev", "input_version": "1", "branch": "main"}
        response = browser_as("developer").post(f"{PIPELINE_PAGE}/run/", form)
        assert response.status_code == 409 and "archived" in response.content.decode()
        assert not Build.objects.exists()

    def test_compiler_problems_land_on_the_fields_they_name(self):
        spec = {"type": "string", "required": False, "default": None, "options": [], "description": ""}
        form = BuildRunForm({"branch": "main", "input_version": "x"}, inputs={"version": spec})
        assert form.is_valid()
        on_input = {"path": "on.manual.inputs.version", "line": 7, "column": 7, "message": "version is bad"}
        elsewhere = {"path": "concurrency", "line": 2, "column": 3, "message": "group is bad"}
        form.add_problems([on_input, elsewhere])
        assert form.errors["input_version"] == ["version is bad"]
        assert form.non_field_errors() == ["2:3: group is bad"]


class TestBuildsTable:
    def test_rows_filter_and_pages(self, browser_as, start, monkeypatch):
        for _ in range(3):
            start()
        Build.objects.filter(number=2).update(status=Status.FAILED)
        monkeypatch.setattr(build_tags, "BUILDS_PER_PAGE", 2)
        client = browser_as("viewer")
        table = section(html(client.get(f"{PIPELINE_PAGE}/")), "builds")
        assert re.findall(r">#(\d+)</a>", table) == ["3", "2"]
        assert '<span class="badge status-failed">Failed</span>' in table
        assert "acme-developer" in table and "<td>manual</td>" in table and "<code>main</code>" in table
        assert "builds_page=2" in table
        older = section(html(client.get(f"{PIPELINE_PAGE}/?builds_page=2")), "builds")
        assert re.findall(r">#(\d+)</a>", older) == ["1"]
        failed = section(html(client.get(f"{PIPELINE_PAGE}/?status=failed")), "builds")
        assert re.findall(r">#(\d+)</a>", failed) == ["2"]
        assert '<option value="failed" selected>' in failed


class TestBuildPage:
    def test_stages_are_columns_with_matrix_jobs_grouped(self, browser_as, start):
        start()
        page = html(browser_as("viewer").get(BUILD_PAGE))
        stages = re.findall(r'<header class="stage-head">\s*<strong>([^<]+)</strong>', page)
        assert stages == ["Build", "Test"]
        matrix = page[page.index('class="job-group matrix"') :]
        group_head = (
            r'class="job-group matrix" data-job-id="test" data-needs="">\s*'
            r'<div class="job-group-name">test <span[^>]*>× 2</span>'
        )
        assert re.match(group_head, matrix)
        job_names = re.findall(r'<a class="job-name" href="\?job=([\w.]+)">([^<]+)</a>', page)
        assert job_names == [("compile", "compile"), ("test.0", "test (3.11)"), ("test.1", "test (3.12)")]
        assert page.count('<span class="badge status-pending">Pending</span>') >= 4

    def test_a_job_shows_its_steps_and_the_log_viewer(self, browser_as, start):
        build = start()
        job = build.jobs.get(key="test.1")
        now = timezone.now()
        StepRun.objects.filter(job=job, index=0).update(
            status=Status.FAILED, outcome="failure", exit_code=2, started_at=now, finished_at=now
        )
        write_log(job, 3)
        page = html(browser_as("viewer").get(f"{BUILD_PAGE}?job=test.1"))
        job_section = section(page, "job")
        assert "test (3.12)" in job_section and "<code>py: 3.12</code>" in job_section
        rows = re.findall(r"<tr>\s*<td>(\d)</td>\s*<td>([^<]+)", job_section)
        assert rows == [("1", "unit"), ("2", "Run echo done")]
        assert "<td>failure</td>" in job_section and "<td>2</td>" in job_section
        log = section(page, "log")
        api = "/api/v1/projects/acme/pipelines/release/builds/1/"
        assert 'data-job="test.1" data-job-name="test (3.12)" data-attempt="1"' in log
        assert f'data-live="true" data-api-build="{api}"' in log
        job_api = f"{api}jobs/test.1/"
        assert f'href="{job_api}logs/download/?attempt=1"' in log
        assert f'href="{api}logs/download/?format=zip"' in log
        assert f'href="{api}logs/download/?format=tar.gz"' in log
        assert 'data-socket="/ws/projects/acme/pipelines/release/builds/1/"' in page

    def test_the_first_running_job_is_shown_by_default(self, browser_as, start):
        build = start()
        JobRun.objects.filter(build=build, key="test.0").update(status=Status.RUNNING)
        page = html(browser_as("viewer").get(BUILD_PAGE))
        assert re.search(r'<li class="job status-border-running selected" data-key="test.0"', page)

    def test_header_facts(self, browser_as, start):
        start()
        header = html(browser_as("viewer").get(BUILD_PAGE))
        assert re.search(r"<h1>Release #1 <span class=\"badge status-pending\">", header)
        assert "<dt>Branch</dt><dd><code>main</code></dd>" in header
        assert "<dt>Started by</dt><dd>acme-developer</dd>" in header
        assert "<code>version=1.0</code>" in header

    def test_status_fragment_for_the_live_reload(self, browser_as, start):
        build = start()
        client = browser_as("viewer")
        fragment = html(client.get(f"{BUILD_PAGE}status/?job=compile"))
        assert fragment.lstrip().startswith('<div id="build-status" data-finished="false"')
        assert "<html" not in fragment and 'id="log"' not in fragment
        Build.objects.filter(id=build.id).update(status=Status.SUCCEEDED)
        assert 'data-finished="true"' in html(client.get(f"{BUILD_PAGE}status/"))

    @pytest.mark.parametrize("role", ROLES)
    def test_who_sees_which_buttons(self, browser_as, start, role):
        if role == "outsider":
            start()
            assert browser_as(role).get(BUILD_PAGE).status_code == 404
            assert browser_as(role).get(f"{BUILD_PAGE}status/").status_code == 404
            return
        build = start()
        JobRun.objects.filter(build=build, key="compile").update(status=Status.RUNNING)
        page = html(browser_as(role).get(BUILD_PAGE))
        writer = role in WRITERS
        assert ("Cancel build" in page) is writer
        assert page.count('button type="submit" class="danger small">Cancel</button>') == (3 if writer else 0)
        assert "Retry all jobs" not in page
        Build.objects.filter(id=build.id).update(status=Status.FAILED)
        JobRun.objects.filter(build=build).update(status=Status.FAILED)
        finished = html(browser_as(role).get(BUILD_PAGE))
        assert ("Retry all jobs" in finished and "Retry failed jobs only" in finished) is writer
        assert "Cancel build" not in finished

    def test_unknown_build_is_404(self, browser_as, start):
        start()
        assert browser_as("viewer").get(f"{PIPELINE_PAGE}/builds/7/").status_code == 404


class TestButtons:
    @pytest.mark.parametrize("role", ROLES)
    def test_cancel_by_role(self, browser_as, start, role):
        build = start()
        response = browser_as(role).post(f"{BUILD_PAGE}cancel/")
        build.refresh_from_db()
        if role in WRITERS:
            assert response.status_code == 302 and response["Location"] == BUILD_PAGE
            assert build.cancel_requested_at is not None
        else:
            assert response.status_code == (404 if role == "outsider" else 403)
            assert build.cancel_requested_at is None

    @pytest.mark.parametrize("role", ROLES)
    def test_job_cancel_by_role(self, browser_as, start, role):
        build = start()
        response = browser_as(role).post(f"{BUILD_PAGE}jobs/test.1/cancel/")
        status = JobRun.objects.get(build=build, key="test.1").status
        if role in WRITERS:
            assert response.status_code == 302 and response["Location"] == f"{BUILD_PAGE}?job=test.1"
            assert status == Status.CANCELED
        else:
            assert response.status_code == (404 if role == "outsider" else 403)
            assert status == Status.PENDING

    @pytest.mark.parametrize("role", ROLES)
    @pytest.mark.parametrize("only_failed", ["0", "1"])
    def test_retry_by_role(self, browser_as, start, role, only_failed):
        build = start()
        Build.objects.filter(id=build.id).update(status=Status.FAILED)
        JobRun.objects.filter(build=build).update(status=Status.SUCCEEDED)
        JobRun.objects.filter(build=build, key="compile").update(status=Status.FAILED)
        response = browser_as(role).post(f"{BUILD_PAGE}retry/", {"only_failed": only_failed})
        build.refresh_from_db()
        attempts = dict(JobRun.objects.filter(build=build).values_list("key", "attempt"))
        if role in WRITERS:
            assert response.status_code == 302 and build.attempt == 2
            assert attempts == ({"compile": 2, "test.0": 1, "test.1": 1} if only_failed == "1" else
                                {"compile": 2, "test.0": 2, "test.1": 2})
        else:
            assert response.status_code == (404 if role == "outsider" else 403)
            assert build.attempt == 1 and set(attempts.values()) == {1}

    def test_retrying_a_running_build_explains_why_not(self, browser_as, start):
        start()
        client = browser_as("developer")
        response = client.post(f"{BUILD_PAGE}retry/", {"only_failed": "0"}, follow=True)
        assert "only a finished build can be retried" in html(response)
        assert Build.objects.get().attempt == 1


class TestDashboard:
    def test_recent_builds_of_my_projects(self, browser_as, start):
        start()
        start()
        recent = section(html(browser_as("viewer").get("/")), "recent-builds")
        assert re.findall(r"acme / Release #(\d)", recent) == ["2", "1"]
        assert f'href="{PIPELINE_PAGE}/builds/2/"' in recent

    def test_outsiders_see_none(self, browser_as, start):
        start()
        recent = section(html(browser_as("outsider").get("/")), "recent-builds")
        assert "Release #" not in recent and "No builds yet." in recent


class TestAdmin:
    def test_builds_and_jobs_are_shown_read_only(self, browser_as, start):
        build = start()
        job = build.jobs.get(key="test.0")
        client = browser_as("superuser")
        assert f"/admin/process/build/{build.id}/change/" in html(client.get("/admin/process/build/"))
        change = html(client.get(f"/admin/process/build/{build.id}/change/"))
        assert "test (3.11)" in change and 'name="_save"' not in change
        job_page = html(client.get(f"/admin/process/jobrun/{job.id}/change/"))
        assert "unit" in job_page
        assert "test.0" in html(client.get("/admin/process/jobrun/?status__exact=pending"))
        assert client.get("/admin/process/build/add/").status_code == 403
