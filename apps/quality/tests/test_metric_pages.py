"""Metrics on pages: the build page's Metrics panel (per job and build) and the pipeline page's SVG
charts over the last builds (which builds, which metrics, the geometry)."""

import re

import pytest
from django.test import Client

from apps.core.testing import make_team
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.quality import charts
from apps.quality.metrics import metrics_record
from apps.quality.tests.test_metrics import TWO_JOBS

pytestmark = pytest.mark.django_db

PIPELINE_PAGE = "/projects/acme/pipelines/checks/"


@pytest.fixture
def team():
    return make_team()


@pytest.fixture
def pipeline(team):
    project, users = team
    return pipeline_create(project=project, user=users["owner"], name="checks", yaml=TWO_JOBS)


@pytest.fixture
def browser(team) -> Client:
    client = Client()
    client.force_login(team[1]["viewer"])
    return client


def new_build(pipeline, team, **by_job):
    build = build_start(pipeline=pipeline, user=team[1]["owner"])
    for key, metrics in by_job.items():
        job_id = None if key == "build" else build.jobs.get(key=key).id
        metrics_record(build_id=build.id, job_id=job_id, metrics=metrics)
    return build


def section(page: str, element_id: str) -> str:
    start = page.index(f'id="{element_id}"')
    return page[start : page.index("</section>", start)]


def test_the_build_page_shows_each_metric_per_job_and_for_the_build(pipeline, team, browser):
    new_build(pipeline, team, unit={"tests.failed": 2, "coverage.line": 87.5}, lint={"lint.clean": True,
                                                                                     "coverage.line": 90.25})
    page = browser.get(f"{PIPELINE_PAGE}builds/1/").content.decode()
    panel = section(page, "metrics")
    assert re.findall(r"<th>([^<]*)</th>", panel) == ["Metric", "Build", "unit", "lint"]
    rows = re.findall(r"<tr>\s*<td><code>([^<]+)</code></td>\s*<td><strong>([^<]+)</strong></td>(.*?)</tr>",
                      panel, re.S)
    cells = {name: (value, re.findall(r"<td>([^<]*)</td>", rest)) for name, value, rest in rows}
    assert cells["tests.failed"] == ("2", ["2", "—"])
    assert cells["lint.clean"] == ("true", ["—", "true"])
    assert cells["coverage.line"][1] == ["87.5", "90.25"]
    assert cells["coverage.line"][0] in ("87.5", "90.25")  # the value reported last


def test_a_build_without_metrics_has_no_panel_and_one_job_needs_no_columns(pipeline, team, browser):
    new_build(pipeline, team)
    assert 'id="metrics"' not in browser.get(f"{PIPELINE_PAGE}builds/1/").content.decode()
    new_build(pipeline, team, unit={"tests.total": 12})
    panel = section(browser.get(f"{PIPELINE_PAGE}builds/2/").content.decode(), "metrics")
    assert re.findall(r"<th>([^<]*)</th>", panel) == ["Metric", "Build"]
    assert "<strong>12</strong>" in panel


def test_the_pipeline_page_charts_metrics_over_the_builds_as_svg(pipeline, team, browser):
    assert 'id="metric-charts"' not in browser.get(PIPELINE_PAGE).content.decode()
    for coverage in (80.0, 85.0, 90.0):
        new_build(pipeline, team, unit={"coverage.line": coverage, "tests.failed": 0}, lint={"note": "text"})
    page = browser.get(PIPELINE_PAGE).content.decode()
    charts_section = section(page, "metric-charts")
    svgs = re.findall(r"<svg\b.*?</svg>", charts_section, re.S)
    assert len(svgs) == 2, "numeric metrics only"
    coverage_svg = svgs[0]
    assert 'aria-label="coverage.line over the last builds, latest 90"' in coverage_svg
    assert re.search(r'<polyline points="8\.0,82\.0 160\.0,45\.0 312\.0,8\.0"', coverage_svg)
    assert re.findall(r"<title>([^<]+)</title>", coverage_svg) == ["#1: 80", "#2: 85", "#3: 90"]
    assert f'href="{PIPELINE_PAGE}builds/3/"' in coverage_svg
    assert 'cy="45.0"' in svgs[1], "a flat series is drawn across the middle"


def test_chart_selection_takes_the_last_builds_and_the_most_reported_metrics(pipeline, team, monkeypatch):
    for number in range(1, 8):
        metrics = {"tests.total": number, "rare": 1.5, "flag": True}
        if number > 2:
            metrics.update({"z.common": number, "a.common": number, "coverage.line": 50 + number})
        new_build(pipeline, team, unit=metrics)
    new_build(pipeline, team)  # no metrics: not one of the charted builds
    found = charts.pipeline_metric_charts(pipeline_id=pipeline.id, builds=5, limit=3)
    assert [chart["name"] for chart in found] == ["coverage.line", "tests.total", "a.common"]
    assert [point["number"] for point in found[0]["points"]] == [3, 4, 5, 6, 7]
    assert found[1]["latest"] == "7" and found[1]["low"] == "3" and found[1]["high"] == "7"
    assert all(chart["builds"] == 5 for chart in found)


def test_a_metric_missing_from_some_builds_keeps_its_x_positions(pipeline, team):
    new_build(pipeline, team, unit={"speed": 1.0})
    new_build(pipeline, team, unit={"other": 1})
    new_build(pipeline, team, unit={"speed": 3.0})
    speed = next(chart for chart in charts.pipeline_metric_charts(pipeline_id=pipeline.id)
                 if chart["name"] == "speed")
    assert [(point["x"], point["y"], point["number"]) for point in speed["points"]] == [
        (8.0, 82.0, 1), (312.0, 8.0, 3)]
