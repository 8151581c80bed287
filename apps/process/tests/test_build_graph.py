"""The build page's graph (job groups in columns by `needs` depth, arrows from the Plan) and the
project page's last build of each pipeline."""

import re

import pytest
from django.test import Client

from apps.process import services
from apps.process.choices import Status
from apps.process.models import Build
from apps.process.selectors_builds import build_stages
from apps.process.selectors_graph import build_graph_columns, needs_depths, plan_needs
from apps.process.selectors_pages import pipeline_last_builds
from apps.process.services.builds import build_start
from apps.process.tests.builds_samples import *  # noqa: F403 (the fixtures)

DIAMOND = """name: diamond
stages:
  - name: First
    jobs:
      setup: { runs-on: nowhere, steps: [{ run: echo setup }] }
      lint: { runs-on: nowhere, steps: [{ run: echo lint }] }
      test:
        runs-on: nowhere
        needs: [setup]
        strategy: { matrix: { py: ["3.11", "3.12"] } }
        steps: [{ run: echo test }]
      package: { runs-on: nowhere, needs: [test, lint], steps: [{ run: echo package }] }
  - name: Second
    jobs:
      ship: { runs-on: nowhere, steps: [{ run: echo ship }] }
"""


@pytest.mark.parametrize(
    ("needs", "depths"),
    [
        ({}, {}),
        ({"a": []}, {"a": 0}),
        ({"a": [], "b": ["a"], "c": ["b", "a"], "d": []}, {"a": 0, "b": 1, "c": 2, "d": 0}),
        ({"a": ["elsewhere"], "b": ["a"]}, {"a": 0, "b": 1}),  # a need outside the stage counts for nothing
        ({"a": ["b"], "b": ["a"]}, {"a": 1, "b": 0}),  # a cycle (the compiler refuses it) still ends
    ],
)
def test_needs_depths(needs, depths):
    assert needs_depths(needs) == depths


def test_plan_needs_by_stage_and_job_id():
    jobs = [{"id": "a", "key": "a"}, {"id": "b", "key": "b.0", "needs": ["a"]}]
    plan = {"stages": [{"index": 0, "jobs": jobs}]}
    assert plan_needs(plan) == {0: {"a": [], "b": ["a"]}}
    assert plan_needs({}) == {}


def test_columns_and_needs_of_a_real_build(team):
    project, users = team
    pipeline = services.pipeline_create(project=project, user=users["owner"], name="Diamond", yaml=DIAMOND)
    build = build_start(pipeline=pipeline, user=users["developer"])
    first, second = build_graph_columns(build=build, stages=build_stages(build))
    columns = [[(group.job_id, group.needs, len(group.jobs)) for group in column] for column in first.columns]
    assert columns == [
        [("setup", [], 1), ("lint", [], 1)],
        [("test", ["setup"], 2)],
        [("package", ["test", "lint"], 1)],
    ]
    assert [[group.job_id for group in column] for column in second.columns] == [["ship"]]


def test_last_build_of_each_pipeline(team, pipeline, start, users):
    project, _ = team
    other = services.pipeline_create(project=project, user=users["owner"], name="Other", yaml=DIAMOND)
    start()
    second = start()
    Build.objects.filter(pk=second.pk).update(status=Status.FAILED)
    last = pipeline_last_builds(pipelines=[pipeline, other])
    assert list(last) == [pipeline.pk]
    assert (last[pipeline.pk].number, last[pipeline.pk].status) == (2, Status.FAILED)

    client = Client()
    client.force_login(users["viewer"])
    page = client.get("/projects/acme/").content.decode()
    cells = re.findall(r'<td class="last-build">(.*?)</td>', page, re.S)
    assert len(cells) == 2
    names = re.findall(r'<a href="/projects/acme/pipelines/[\w-]+/">([^<]+)</a>', page)
    by_name = dict(zip(names, cells, strict=True))
    assert '#2</a> <span class="badge status-failed">Failed</span>' in by_name["Release"]
    assert "never run" in by_name["Other"]


def test_the_builds_table_filters_by_trigger(pipeline, start, users):
    start()
    client = Client()
    client.force_login(users["viewer"])
    manual = client.get("/projects/acme/pipelines/release/?event=manual").content.decode()
    push = client.get("/projects/acme/pipelines/release/?event=push").content.decode()
    row = r'<td><a href="/projects/acme/pipelines/release/builds/1/">#1</a></td>'
    assert re.search(row, manual) and not re.search(row, push)
    assert '<option value="manual" selected>manual</option>' in manual
