"""Metrics end to end with the real server, worker and agent: a step runs pytest (a real JUnit XML),
writes a coverage.py-style XML, uploads both with `::upload-report`, reports values with
`::set-metric`, `::set-gate-value` and `$DEVOPS_METRICS`; the test reads them back over the REST
API and sees them on the build page and as an SVG chart on the pipeline page."""

import json
import sys
import urllib.request

import pytest

from apps.log.testing import stored_log_texts
from apps.process.services.builds import build_start
from apps.quality.models import Metric

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PIPELINE = """
name: metrics
jobs:
  test:
    runs-on: [self-hosted]
    steps:
      - name: tests
        run: |
          echo "::upload-report type=junit::reports/junit.xml"
          mkdir -p reports
          cat > test_demo.py <<'EOF'
          import pytest
          def test_ok():
              assert True
          def test_fails():
              assert 1 == 2
          @pytest.mark.skip(reason="a skipped case, counted in the JUnit report")
          def test_later():
              pass
          EOF
          PYTHON -m pytest -q -p no:django -p no:cacheprovider -o addopts="" \\
            --junitxml=reports/junit.xml test_demo.py || echo "pytest exited $?"
      - name: coverage and values
        run: |
          cat > coverage.xml <<'EOF'
          <?xml version="1.0" ?>
          <coverage version="7.4.0" timestamp="1" lines-valid="40" lines-covered="35" line-rate="0.875"
           branches-covered="6" branches-valid="10" branch-rate="0.6" complexity="0">
          <sources><source>.</source></sources><packages/>
          </coverage>
          EOF
          echo "::upload-report type=coverage::coverage.xml"
          echo "::upload-report type=junit::no-such-file.xml"
          echo "::set-metric name=lint.warnings::3"
          echo "::set-gate-value name=release.ready::yes"
          echo "bundle.kb=512.5" >> "$DEVOPS_METRICS"
  lint:
    runs-on: [self-hosted]
    steps:
      - run: echo "::set-metric name=lint.clean::1"
"""


def get(cluster, user, path: str) -> tuple[int, bytes]:
    headers = {key: value for key, value in cluster.api(user).headers.items() if key != "Content-Type"}
    request = urllib.request.Request(cluster.url + path, headers=headers)
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def test_steps_and_reports_become_metrics_read_back_over_the_api(cluster, make_pipeline, owner, project):
    pipeline = make_pipeline("metrics", PIPELINE.replace("PYTHON", sys.executable))
    cluster.start()
    build = build_start(pipeline=pipeline, user=owner)
    cluster.start_agents(1)
    build = cluster.wait_build(build, timeout=90)
    assert build.status == "succeeded", build.reason

    build_path = f"/api/v1/projects/{project.slug}/pipelines/metrics/builds/{build.number}/"
    status, body = get(cluster, owner, f"{build_path}metrics/")
    assert status == 200
    answer = json.loads(body)
    jobs = {job["key"]: job["values"] for job in answer["jobs"]}
    assert set(jobs) == {"test", "lint"}
    test = jobs["test"]
    counts = [test[f"tests.{name}"] for name in ("total", "passed", "failed", "errors", "skipped")]
    assert counts == [3, 1, 1, 0, 1]
    assert isinstance(test["tests.duration_seconds"], float) and 0 <= test["tests.duration_seconds"] < 60
    assert (test["coverage.line"], test["coverage.branch"]) == (87.5, 60.0)
    assert (test["lint.warnings"], test["release.ready"], test["bundle.kb"]) == (3, "yes", 512.5)
    assert jobs["lint"] == {"lint.clean": 1}
    assert answer["values"]["tests.failed"] == 1 and answer["values"]["lint.clean"] == 1
    sources = dict(Metric.objects.filter(build=build).values_list("name", "source"))
    assert [sources[name] for name in ("tests.total", "coverage.line", "bundle.kb")] == [
        "junit", "coverage", "step"]

    lines = stored_log_texts(job__build=build, job__key="test")
    uploaded = "Uploaded the junit report reports/junit.xml: tests.total=3,"
    assert any(line.startswith(uploaded) for line in lines)
    assert "Uploaded the coverage report coverage.xml: coverage.line=87.5, coverage.branch=60.0" in lines
    assert "##[warning]upload-report junit no-such-file.xml: no such file" in lines

    status, page = get(cluster, owner, f"/projects/{project.slug}/pipelines/metrics/builds/{build.number}/")
    assert status == 200 and b'id="metrics"' in page and b"<code>coverage.line</code>" in page
    status, page = get(cluster, owner, f"/projects/{project.slug}/pipelines/metrics/")
    assert status == 200 and page.count(b"<svg") == 4
    assert b'aria-label="coverage.line over the last builds, latest 87.5"' in page
