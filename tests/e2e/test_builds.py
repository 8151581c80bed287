"""In the browser, with the real engine and a real agent: run a pipeline from its run form and watch
the build page follow it to green; see a failing step's reason; cancel a running build."""

import re

import pytest
from playwright.sync_api import expect

from apps.core.services import project_create
from apps.process.services import pipeline_create

pytestmark = [pytest.mark.django_db(transaction=True)]

WITH_INPUTS = """name: release
on:
  manual:
    inputs:
      target: { type: choice, options: [staging, production], default: staging, required: true }
      dry_run: { type: boolean, default: false }
stages:
  - name: Package
    jobs:
      package:
        name: Package
        runs-on: self-hosted
        steps:
          - name: Announce
            run: echo "releasing to ${{ inputs.target }} (dry run ${{ inputs.dry_run }})"
          - name: Check the flag
            run: test "${{ inputs.dry_run }}" = "true"
  - name: Publish
    jobs:
      publish:
        name: Publish
        runs-on: self-hosted
        steps:
          - run: echo published
"""
FAILING = """name: broken
jobs:
  tests:
    name: Tests
    runs-on: self-hosted
    steps:
      - name: Prepare
        run: echo preparing
      - name: Run the tests
        run: |
          echo "2 tests failed"
          exit 3
      - name: Report
        run: echo never
"""
SLOW = """name: slow
jobs:
  wait:
    name: Wait
    runs-on: self-hosted
    steps:
      - name: Sleep
        run: sleep 60
"""


@pytest.fixture
def project(superuser):
    return project_create(user=superuser, slug="shop", name="Shop")


def pipeline_page(page, project, superuser, name: str, yaml: str):
    pipeline = pipeline_create(project=project, user=superuser, name=name, yaml=yaml)
    page.goto(f"/projects/{project.slug}/pipelines/{pipeline.slug}/")
    return pipeline


def build_badge(page):
    return page.locator("#build-status h1 .badge")


def log_texts(page):
    return page.locator("#log .log-row .log-text")


def test_run_form_inputs_and_the_build_page_following_to_green(
    admin_page, project, superuser, local_agent, screenshot
):
    page = admin_page
    pipeline_page(page, project, superuser, "Release", WITH_INPUTS)
    run = page.locator("section#run")
    expect(run.get_by_label("target")).to_have_value("staging")
    expect(run.get_by_label("dry_run")).not_to_be_checked()
    run.get_by_label("target").select_option("production")
    run.get_by_label("dry_run").check()
    screenshot(page, "run-form")
    run.get_by_role("button", name="Run pipeline").click()

    expect(page).to_have_url("/projects/shop/pipelines/release/builds/1/")
    expect(page.locator(".messages")).to_contain_text("Build #1 started.")
    inputs = page.locator(".build-facts dt:text-is('Inputs') + dd")
    expect(inputs).to_contain_text("target=production")
    expect(inputs).to_contain_text("dry_run=true")
    expect(page.locator(".stage-head strong")).to_have_text(["Package", "Publish"])

    expect(build_badge(page)).to_have_text("Succeeded", timeout=30_000)
    jobs = page.locator("li.job")
    expect(jobs.locator(".badge")).to_have_text(["Succeeded", "Succeeded"])
    expect(page.locator("#job h2")).to_contain_text("Package")
    steps = page.locator("table.steps tbody tr")
    expect(steps.locator("td:nth-child(2)")).to_have_text(["Announce", "Check the flag"])
    expect(steps.locator(".badge")).to_have_text(["Succeeded", "Succeeded"])
    log = log_texts(page)
    expect(log.filter(has_text=re.compile(r"^releasing to production \(dry run true\)$"))).to_have_count(1)
    screenshot(page)

    page.goto("/projects/shop/pipelines/release/")
    builds = page.locator("table.builds tbody tr")
    expect(builds).to_have_count(1)
    expect(builds.locator(".badge")).to_have_text("Succeeded")


def test_a_failing_step_shows_its_reason(admin_page, project, superuser, local_agent, screenshot):
    page = admin_page
    pipeline_page(page, project, superuser, "Broken", FAILING)
    page.locator("section#run").get_by_role("button", name="Run pipeline").click()

    expect(build_badge(page)).to_have_text("Failed", timeout=30_000)
    expect(page.locator("li.job .badge")).to_have_text("Failed")
    steps = page.locator("table.steps tbody tr")
    expect(steps.locator(".badge")).to_have_text(["Succeeded", "Failed", "Skipped"])
    expect(steps.nth(1).locator("td:nth-child(5)")).to_have_text("3")
    expect(steps.nth(2)).to_contain_text("an earlier step failed")
    expect(page.locator("#build-status .reason")).to_contain_text("step 'Run the tests' failed")
    expect(page.locator("#job .facts dt:text-is('Reason') + dd")).to_have_text("step 'Run the tests' failed")
    log = log_texts(page)
    expect(log.filter(has_text=re.compile("^2 tests failed$"))).to_have_count(1)
    expect(log.filter(has_text="Process completed with exit code 3.")).to_have_count(1)
    screenshot(page)


def test_cancel_a_running_build(admin_page, project, superuser, local_agent, screenshot):
    page = admin_page
    pipeline_page(page, project, superuser, "Slow", SLOW)
    page.locator("section#run").get_by_role("button", name="Run pipeline").click()

    expect(build_badge(page)).to_have_text("Running", timeout=30_000)
    expect(page.locator("table.steps .badge")).to_have_text("Running", timeout=30_000)
    screenshot(page, "running")
    page.get_by_role("button", name="Cancel build").click()
    expect(page.locator(".messages")).to_contain_text("Cancel of #1 requested.")

    expect(build_badge(page)).to_have_text("Canceled", timeout=15_000)
    expect(page.locator("li.job .badge")).to_have_text("Canceled")
    expect(page.locator("table.steps .badge")).to_have_text("Canceled")
    expect(log_texts(page).filter(has_text="its processes were killed")).to_have_count(1)
    expect(page.get_by_role("button", name="Retry all jobs")).to_be_visible()
    screenshot(page)
