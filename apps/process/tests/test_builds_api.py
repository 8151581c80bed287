"""Builds over the REST API: trigger with typed inputs, list filters and cursor pages, the detail
shape, cancel/retry/job cancel by role, and a job's log page by page."""

from datetime import timedelta

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from apps.process.choices import Status
from apps.process.language import TriggerEvent
from apps.process.models import Build, JobRun, StepRun
from apps.process.services import pipeline_archive
from apps.process.services.builds import build_retry
from apps.process.tests.builds_samples import *  # noqa: F403 (the fixtures)
from apps.process.tests.builds_samples import PIPELINE_API, RELEASE_INPUTS, ROLES, WRITERS, write_log

BUILDS = f"{PIPELINE_API}/builds/"


def finish(build, status=Status.FAILED, failed_key="test.1"):
    """Move a build to a finished state: every job succeeded except `failed_key`."""
    now = timezone.now()
    build.jobs.update(status=Status.SUCCEEDED, started_at=now, finished_at=now)
    build.jobs.filter(key=failed_key).update(status=Status.FAILED)
    build.stages.update(status=Status.SUCCEEDED)
    started = now - timedelta(seconds=75)
    Build.objects.filter(id=build.id).update(status=status, started_at=started, finished_at=now)


class TestTrigger:
    def test_typed_inputs_are_converted_and_the_build_is_returned(self, api_as, users):
        body = {
            "inputs": {"version": "2.0", "target": "prod", "dry_run": "true", "replicas": "3"},
            "variables": {"LEVEL": "debug"},
            "branch": "release/2",
            "sha": "abc123",
        }
        response = api_as("developer").post(BUILDS, body, format="json")
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["number"] == 1
        assert data["status"] == Status.PENDING
        assert (data["event"], data["branch"], data["sha"], data["actor"]) == (
            "api", "release/2", "abc123", users["developer"].username
        )
        assert data["inputs"] == {
            "target": "prod", "version": "2.0", "dry_run": True, "replicas": 3, "region": ""
        }
        assert data["variables"] == {"LEVEL": "debug"}
        assert [stage["id"] for stage in data["stages"]] == ["build", "test"]
        build = Build.objects.get()
        assert build.trigger["ref"] == "refs/heads/release/2" and build.created_by == users["developer"]

    def test_defaults_fill_what_is_not_given_and_numbers_increase(self, api_as):
        client = api_as("maintainer")
        first = client.post(BUILDS, {"inputs": {"version": "1"}}, format="json").json()
        second = client.post(BUILDS, {"inputs": {"version": "1"}}, format="json").json()
        assert (first["number"], second["number"]) == (1, 2)
        assert first["inputs"]["target"] == "dev" and first["inputs"]["replicas"] == 2
        assert first["branch"] == "main"

    @pytest.mark.parametrize(
        "inputs, message",
        [
            ({}, "input 'version' is required"),
            ({"version": "1", "target": "qa"}, "input 'target' must be one of [dev, prod], got 'qa'"),
            ({"version": "1", "dry_run": "maybe"}, "input 'dry_run' must be true or false, got 'maybe'"),
            ({"version": "1", "replicas": "many"}, "input 'replicas' must be a number, got 'many'"),
            ({"version": "1", "colour": "red"}, "input 'colour' is not declared in on.manual.inputs"),
        ],
    )
    def test_wrong_inputs_are_a_400_with_the_problems(self, api_as, inputs, message):
        response = api_as("developer").post(BUILDS, {"inputs": inputs}, format="json")
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        messages = [problem["message"] for problem in error["details"]["problems"]]
        assert any(text.startswith(message) for text in messages), messages
        assert all({"path", "line", "column", "message"} <= set(p) for p in error["details"]["problems"])
        assert not Build.objects.exists()

    def test_a_malformed_body_is_a_400(self, api_as):
        response = api_as("developer").post(BUILDS, {"inputs": "version=1"}, format="json")
        assert response.status_code == 400
        assert "inputs" in response.json()["error"]["details"]

    def test_an_archived_pipeline_cannot_start(self, api_as, pipeline, users):
        pipeline_archive(pipeline=pipeline, user=users["owner"])
        response = api_as("developer").post(BUILDS, {"inputs": {"version": "1"}}, format="json")
        assert response.status_code == 409


class TestList:
    @pytest.fixture
    def builds(self, start, users):
        main = start()
        feature = start(trigger=TriggerEvent(event="manual", ref="refs/heads/feature"))
        pushed = build_start_as_push(start)
        finish(main, Status.SUCCEEDED)
        Build.objects.filter(id=feature.id).update(created_at=timezone.now() - timedelta(days=3))
        return {"main": main, "feature": feature, "push": pushed}

    def numbers(self, client, query: str = "") -> list[int]:
        response = client.get(f"{BUILDS}?{query}")
        assert response.status_code == 200, response.json()
        return [build["number"] for build in response.json()["results"]]

    def test_newest_first(self, api_as, builds):
        assert self.numbers(api_as("viewer")) == [3, 2, 1]

    @pytest.mark.parametrize(
        "query, expected",
        [
            ("status=succeeded", [1]),
            ("status=pending", [3, 2]),
            ("branch=feature", [2]),
            ("branch=refs/heads/main", [3, 1]),
            ("event=manual", [2, 1]),
            ("event=push", [3]),
            ("number=2", [2]),
            ("actor=acme-developer", [3, 2, 1]),
            ("created_before={days_ago_1}", [2]),
            ("created_after={days_ago_1}", [3, 1]),
        ],
    )
    def test_filters(self, api_as, builds, query, expected):
        moment = (timezone.now() - timedelta(days=1)).isoformat().replace("+00:00", "Z")
        assert self.numbers(api_as("viewer"), query.format(days_ago_1=moment)) == expected

    def test_a_bad_filter_value_is_a_400(self, api_as, builds):
        response = api_as("viewer").get(f"{BUILDS}?status=exploded")
        assert response.status_code == 400
        assert "status" in response.json()["error"]["details"]

    def test_cursor_pages_follow_each_other(self, api_as, builds):
        client = api_as("viewer")
        first = client.get(f"{BUILDS}?page_size=2").json()
        assert [build["number"] for build in first["results"]] == [3, 2]
        assert first["previous"] is None and first["next"]
        second = client.get(first["next"]).json()
        assert [build["number"] for build in second["results"]] == [1]
        assert second["next"] is None

    def test_list_items_carry_the_summary(self, api_as, builds):
        item = api_as("viewer").get(f"{BUILDS}?number=1").json()["results"][0]
        assert item["status"] == "succeeded" and item["duration"] == pytest.approx(75, abs=1)
        assert item["version"] == 1 and item["event"] == "manual" and item["branch"] == "main"
        assert "stages" not in item


def build_start_as_push(start):
    return start(inputs=None, trigger=TriggerEvent(event="push", ref="refs/heads/main", sha="f00d"))


class TestDetail:
    def test_stages_jobs_and_steps(self, api_as, start):
        build = start()
        response = api_as("viewer").get(f"{BUILDS}{build.number}/")
        assert response.status_code == 200
        data = response.json()
        assert data["number"] == build.number and data["attempt"] == 1
        build_stage, test_stage = data["stages"]
        assert (build_stage["id"], build_stage["name"]) == ("build", "Build")
        assert build_stage["status"] == "pending"
        [compile_job] = build_stage["jobs"]
        assert compile_job["key"] == "compile" and compile_job["labels"] == ["self-hosted", "linux"]
        assert compile_job["matrix"] is None and compile_job["agent"] is None
        assert [step["name"] for step in compile_job["steps"]] == ["Run echo compile"]
        matrix = test_stage["jobs"]
        assert [job["key"] for job in matrix] == ["test.0", "test.1"]
        assert [job["matrix"] for job in matrix] == [{"py": "3.11"}, {"py": "3.12"}]
        assert [job["name"] for job in matrix] == ["test (3.11)", "test (3.12)"]
        step = matrix[0]["steps"][0]
        assert step["name"] == "unit" and step["status"] == "pending"
        assert {"outcome", "exit_code", "duration", "attempt", "started_at", "finished_at"} <= set(step)

    def test_steps_of_the_current_attempt_only(self, api_as, start, users):
        build = start()
        finish(build)
        StepRun.objects.filter(job__key="test.1").update(status=Status.FAILED, exit_code=3)
        build_retry(build=build, user=users["developer"], only_failed=True)
        data = api_as("viewer").get(f"{BUILDS}{build.number}/").json()
        failed = data["stages"][1]["jobs"][1]
        assert failed["attempt"] == 2 and failed["status"] == "pending"
        assert [step["exit_code"] for step in failed["steps"]] == [None, None]
        kept = data["stages"][1]["jobs"][0]
        assert kept["attempt"] == 1 and kept["status"] == "succeeded"

    def test_unknown_builds_and_jobs_are_404(self, api_as, start):
        start()
        client = api_as("viewer")
        assert client.get(f"{BUILDS}9/").status_code == 404
        assert client.get(f"{BUILDS}1/jobs/nope/").status_code == 404
        assert client.get("/api/v1/projects/acme/pipelines/nope/builds/").status_code == 404

    def test_jobs_list_and_one_job(self, api_as, start):
        start()
        client = api_as("viewer")
        jobs = client.get(f"{BUILDS}1/jobs/").json()
        assert [job["key"] for job in jobs] == ["compile", "test.0", "test.1"]
        job = client.get(f"{BUILDS}1/jobs/test.1/").json()
        assert job["matrix"] == {"py": "3.12"} and len(job["steps"]) == 2


def operations(build) -> list[tuple[str, str, dict | None, int]]:
    """(method, url, body, status for writers) of every build endpoint."""
    base = f"{BUILDS}{build.number}/"
    return [
        ("get", BUILDS, None, 200),
        ("get", base, None, 200),
        ("get", f"{base}jobs/", None, 200),
        ("get", f"{base}jobs/compile/logs/", None, 200),
        ("post", BUILDS, {"inputs": {"version": "9"}}, 201),
        ("post", f"{base}cancel/", None, 200),
        ("post", f"{base}jobs/test.0/cancel/", None, 200),
    ]


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_permission_table(api_as, start, role):
    build = start()
    client = api_as(role)
    for method, url, body, writer_status in operations(build):
        reading = method == "get"
        if role == "anonymous":
            expected = 403
        elif role == "outsider":
            expected = 404
        elif reading or role in WRITERS:
            expected = writer_status
        else:
            expected = 403
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == expected, (role, method, url, response.content)


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
@pytest.mark.parametrize("only_failed", [False, True])
def test_retry_by_role(api_as, start, role, only_failed):
    build = start()
    finish(build)
    body = {"only_failed": only_failed}
    response = api_as(role).post(f"{BUILDS}{build.number}/retry/", body, format="json")
    expected = {"anonymous": 403, "outsider": 404, "viewer": 403}.get(role, 200)
    assert response.status_code == expected
    build.refresh_from_db()
    if expected != 200:
        assert build.attempt == 1 and build.status == Status.FAILED
        return
    assert response.json()["attempt"] == 2 and build.status == Status.PENDING
    attempts = dict(JobRun.objects.filter(build=build).values_list("key", "attempt"))
    retried = {"compile": 1, "test.0": 1, "test.1": 2} if only_failed else dict.fromkeys(attempts, 2)
    assert attempts == retried


class TestCancel:
    def test_cancel_records_the_request_and_the_reason(self, api_as, start, users):
        build = start()
        data = api_as("developer").post(f"{BUILDS}{build.number}/cancel/").json()
        assert data["cancel_requested_at"] is not None
        assert data["reason"] == f"canceled by {users['developer'].username}"

    def test_a_pending_job_is_canceled_at_once(self, api_as, start):
        build = start()
        data = api_as("developer").post(f"{BUILDS}{build.number}/jobs/test.0/cancel/").json()
        assert data["key"] == "test.0" and data["status"] == "canceled"
        assert JobRun.objects.get(build=build, key="test.1").status == Status.PENDING

    def test_a_running_job_is_asked_to_stop(self, api_as, start):
        build = start()
        JobRun.objects.filter(build=build, key="compile").update(status=Status.RUNNING)
        data = api_as("developer").post(f"{BUILDS}{build.number}/jobs/compile/cancel/").json()
        assert data["status"] == "running" and data["cancel_requested"] is True

    def test_retrying_a_build_that_still_runs_is_a_409(self, api_as, start):
        build = start()
        response = api_as("developer").post(f"{BUILDS}{build.number}/retry/", {}, format="json")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "conflict"


class TestLogs:
    def url(self, build, key="compile"):
        return f"{BUILDS}{build.number}/jobs/{key}/logs/"

    def test_pages_follow_each_other_until_complete(self, api_as, start):
        build = start()
        job = build.jobs.get(key="compile")
        write_log(job, 5, step=0)
        client = api_as("viewer")
        first = client.get(self.url(build), {"after": 0, "limit": 2}).json()
        assert [line["seq"] for line in first["lines"]] == [1, 2]
        assert first["lines"][0]["text"] == "line 1" and first["lines"][0]["step"] == 0
        assert set(first["lines"][0]) == {"seq", "ts", "step", "stream", "level", "text"}
        assert first["total_lines"] == 5
        assert (first["next_after"], first["complete"], first["attempt"]) == (2, False, 1)
        rest = client.get(self.url(build), {"after": first["next_after"], "limit": 10}).json()
        assert [line["seq"] for line in rest["lines"]] == [3, 4, 5]
        assert rest["complete"] is False, "the job still runs: more lines may come"
        JobRun.objects.filter(id=job.id).update(status=Status.SUCCEEDED)
        last = client.get(self.url(build), {"after": 5}).json()
        assert (last["lines"], last["next_after"], last["complete"]) == ([], 5, True)
        cut = client.get(self.url(build), {"after": 3, "limit": 1}).json()
        assert cut["next_after"] == 4 and cut["complete"] is False

    def test_an_earlier_attempt_by_number(self, api_as, start, users):
        build = start()
        job = build.jobs.get(key="test.1")
        write_log(job, 3)
        finish(build)
        build_retry(build=build, user=users["developer"])
        write_log(job, 1, attempt=2)
        client = api_as("viewer")
        current = client.get(self.url(build, "test.1")).json()
        assert current["attempt"] == 2 and [line["seq"] for line in current["lines"]] == [1]
        earlier = client.get(self.url(build, "test.1"), {"attempt": 1}).json()
        assert [line["seq"] for line in earlier["lines"]] == [1, 2, 3] and earlier["complete"] is True
        assert client.get(self.url(build, "test.1"), {"attempt": 3}).status_code == 404

    @pytest.mark.parametrize("query", ["after=-1", "limit=0", "limit=99999", "attempt=0", "after=x"])
    def test_bad_paging_is_a_400(self, api_as, start, query):
        build = start()
        assert api_as("viewer").get(f"{self.url(build)}?{query}").status_code == 400


def test_schema_lists_the_build_endpoints_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    paths = yaml.safe_load(target.read_text())["paths"]
    base = "/api/v1/projects/{project_slug}/pipelines/{pipeline_slug}/builds/"
    jobs = base + "{build_number}/jobs/{key}/"
    assert {
        base,
        base + "{number}/",
        base + "{number}/cancel/",
        base + "{number}/retry/",
        jobs + "cancel/",
        jobs + "logs/",
    } <= set(paths)
    assert {"post", "get"} <= set(paths[base])
    log_params = {p["name"] for p in paths[jobs + "logs/"]["get"]["parameters"] if p["in"] == "query"}
    assert log_params == {"after", "limit", "attempt"}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("created_before=9543-05-28T06:54:50-17:26", 200),  # an offset the database refuses: read as UTC
        ("created_before=9999-12-31T23:00:00-05:00", 400),  # past year 9999 once in UTC
        ("created_after=2020-01-01T00:00:00Z", 200),
    ],
)
def test_date_filters_take_any_offset_or_say_what_is_wrong(api_as, query, status):
    response = api_as("viewer").get(f"{BUILDS}?{query}")
    assert response.status_code == status, response.content


def test_an_environment_input_must_name_a_node_group_of_the_project(api_as, users, team):
    from apps.environment import services as environment_services

    project = team[0]
    for name in ("staging", "production"):
        environment_services.node_group_create(project=project, user=users["owner"], name=name)
    client = api_as("developer")
    wrong = client.post(BUILDS, {"inputs": {**RELEASE_INPUTS, "region": "moon"}}, format="json")
    assert wrong.status_code == 400
    (problem,) = wrong.json()["error"]["details"]["problems"]
    assert problem["path"] == "on.manual.inputs.region"
    wanted = "input 'region' must name a node group of the project (production, staging), got 'moon'"
    assert problem["message"] == wanted
    right = client.post(BUILDS, {"inputs": {**RELEASE_INPUTS, "region": "staging"}}, format="json")
    assert right.status_code == 201 and right.json()["inputs"]["region"] == "staging"
