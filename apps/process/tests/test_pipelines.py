"""Pipeline services and selectors: versions, hashes, validation, limits, archive, diff."""

import hashlib

import pytest
from django.test import override_settings

from apps.core.errors import Conflict, NotFound, PayloadTooLarge, PermissionDenied, ValidationFailed
from apps.core.testing import make_team
from apps.process import services
from apps.process.models import PipelineVersion
from apps.process.selectors import (
    pipeline_get_for_user,
    pipeline_list_for_user,
    pipeline_version_diff,
    pipeline_version_get,
    pipeline_version_list,
)
from apps.process.tests.samples import HELLO, HELLO_TWICE, TWO_PROBLEM_LINES, TWO_PROBLEMS

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return make_team()


def create(team, *, yaml=HELLO, role="developer", **fields):
    project, users = team
    fields.setdefault("name", "Build and test")
    return services.pipeline_create(project=project, user=users[role], yaml=yaml, **fields)


def test_create_stores_version_one_with_its_sha256(team):
    pipeline = create(team, message="first")
    version = pipeline.current_version
    assert pipeline.slug == "build-and-test"
    assert version.number == 1
    assert version.yaml == HELLO
    assert version.sha256 == hashlib.sha256(HELLO.encode("utf-8")).hexdigest()
    assert version.message == "first"
    assert version.created_by == team[1]["developer"]


def test_versions_cannot_be_changed(team):
    version = create(team).current_version
    version.yaml = "name: sneaky"
    with pytest.raises(ValueError):
        version.save()
    assert PipelineVersion.objects.get(pk=version.pk).yaml == HELLO


def test_unchanged_yaml_makes_no_new_version(team):
    pipeline = create(team)
    same = services.pipeline_version_create(pipeline=pipeline, user=team[1]["developer"], yaml=HELLO)
    assert same == pipeline.current_version
    services.pipeline_update(pipeline=pipeline, user=team[1]["developer"], name="Renamed", yaml=HELLO)
    assert PipelineVersion.objects.filter(pipeline=pipeline).count() == 1
    assert pipeline.name == "Renamed"


def test_changed_yaml_makes_the_next_version(team):
    pipeline = create(team)
    updated = services.pipeline_update(
        pipeline=pipeline, user=team[1]["maintainer"], yaml=HELLO_TWICE, message="say it twice"
    )
    assert updated.current_version.number == 2
    assert updated.current_version.sha256 == hashlib.sha256(HELLO_TWICE.encode()).hexdigest()
    assert [v.number for v in pipeline_version_list(pipeline)] == [2, 1]
    assert pipeline_version_get(pipeline, 1).yaml == HELLO
    back = services.pipeline_update(pipeline=pipeline, user=team[1]["owner"], yaml=HELLO)
    assert back.current_version.number == 3


def test_diff_between_versions_is_unified(team):
    pipeline = create(team)
    services.pipeline_update(pipeline=pipeline, user=team[1]["developer"], yaml=HELLO_TWICE)
    first, second = pipeline_version_get(pipeline, 1), pipeline_version_get(pipeline, 2)
    diff = pipeline_version_diff(first, second)
    assert diff.startswith("--- build-and-test v1\n+++ build-and-test v2\n@@")
    assert "+      - run: echo hello again\n" in diff
    assert "\n-" not in diff
    assert pipeline_version_diff(first, first) == ""


def test_every_problem_is_reported_with_its_place(team):
    with pytest.raises(ValidationFailed) as caught:
        create(team, yaml=TWO_PROBLEMS)
    problems = caught.value.problems
    assert len(problems) >= 2
    assert caught.value.details == {"problems": problems}
    assert {problem["line"] for problem in problems} >= TWO_PROBLEM_LINES
    for problem in problems:
        assert set(problem) == {"path", "line", "column", "message"}
        assert problem["column"] >= 1 and problem["message"]
    assert not pipeline_list_for_user(team[1]["owner"]).exists()


def test_invalid_yaml_on_update_keeps_the_current_version(team):
    pipeline = create(team)
    with pytest.raises(ValidationFailed):
        services.pipeline_update(pipeline=pipeline, user=team[1]["developer"], yaml=TWO_PROBLEMS)
    pipeline.refresh_from_db()
    assert pipeline.current_version.number == 1


@override_settings(PIPELINE_MAX_BYTES=1024)
def test_yaml_over_the_limit_is_too_large(team):
    padded = HELLO + "#" * 1024 + "\n"
    with pytest.raises(PayloadTooLarge) as caught:
        create(team, yaml=padded)
    assert caught.value.details["limit"] == 1024
    assert services.pipeline_yaml_check(yaml=HELLO) == []


def test_slugs_are_derived_unique_or_refused(team):
    assert create(team).slug == "build-and-test"
    assert create(team).slug == "build-and-test-2"
    assert create(team, name="!!").slug == "pipeline"
    assert create(team, name="Deploy", slug="ship-it").slug == "ship-it"
    with pytest.raises(Conflict):
        create(team, name="Other", slug="ship-it")
    with pytest.raises(ValidationFailed) as caught:
        create(team, name="Bad", slug="Not A Slug")
    assert "slug" in caught.value.details


@pytest.mark.parametrize("role", ["viewer", "outsider"])
def test_viewers_and_outsiders_cannot_write(team, role):
    expected = PermissionDenied if role == "viewer" else NotFound
    with pytest.raises(expected):
        create(team, role=role)
    pipeline = create(team)
    with pytest.raises(expected):
        services.pipeline_update(pipeline=pipeline, user=team[1][role], yaml=HELLO_TWICE)
    with pytest.raises(expected):
        services.pipeline_archive(pipeline=pipeline, user=team[1][role])


def test_archived_pipelines_are_read_only_until_restored(team):
    pipeline = create(team)
    services.pipeline_archive(pipeline=pipeline, user=team[1]["developer"])
    assert pipeline.is_archived
    with pytest.raises(Conflict):
        services.pipeline_update(pipeline=pipeline, user=team[1]["developer"], yaml=HELLO_TWICE)
    services.pipeline_restore(pipeline=pipeline, user=team[1]["developer"])
    assert services.pipeline_update(pipeline=pipeline, user=team[1]["developer"], yaml=HELLO_TWICE)


def test_reads_are_scoped_to_members(team):
    pipeline = create(team)
    other_project, other_users = make_team("other")
    services.pipeline_create(project=other_project, user=other_users["owner"], name="Theirs", yaml=HELLO)
    assert list(pipeline_list_for_user(team[1]["viewer"])) == [pipeline]
    assert pipeline_list_for_user(team[1]["superuser"]).count() == 2
    assert pipeline_get_for_user(team[1]["viewer"], "acme", pipeline.slug) == pipeline
    with pytest.raises(NotFound):
        pipeline_get_for_user(team[1]["outsider"], "acme", pipeline.slug)
    with pytest.raises(NotFound):
        pipeline_get_for_user(team[1]["viewer"], "acme", "missing")
    with pytest.raises(NotFound):
        pipeline_version_get(pipeline, 9)
