"""In the browser, with the real engine and a real agent: a stage waits for review, the reviewer
fills the review's input and approves it from the build page, and the build goes on to green with
the value; a gatekeeper overrides a blocked quality gate."""

import re

import pytest
from playwright.sync_api import expect

from apps.core.services import project_create
from apps.process.services import pipeline_create

pytestmark = [pytest.mark.django_db(transaction=True)]

REVIEWED = """name: deploy
on: {push: {}, manual: {}}
stages:
  - name: Build
    jobs:
      build: {runs-on: self-hosted, steps: [{run: 'echo "::set-metric name=coverage.line::64"'}]}
  - name: Deploy
    check-in:
      reviews:
        reviewers: [admin]
        description: "Deploy ${{ ci.branch }} to production?"
        inputs: {target: {type: choice, options: [staging, production], default: staging}}
    jobs:
      deploy:
        name: Deploy
        runs-on: self-hosted
        steps: [{run: 'echo "deploying to ${{ variables.target }}"'}]
"""

GATED = """name: gated
on: {push: {}, manual: {}}
stages:
  - name: Test
    jobs:
      test: {runs-on: self-hosted, steps: [{run: 'echo "::set-metric name=coverage.line::64"'}]}
    check-out:
      gates: [{name: coverage, rule: ["coverage.line >= 80"], continue-on-fail: {gatekeepers: [admin]}}]
  - name: Ship
    jobs:
      ship: {runs-on: self-hosted, steps: [{run: echo shipped}]}
"""


@pytest.fixture
def project(superuser):
    return project_create(user=superuser, slug="shop", name="Shop")


def run_from_the_page(page, project, superuser, name: str, yaml: str) -> None:
    pipeline = pipeline_create(project=project, user=superuser, name=name, yaml=yaml)
    page.goto(f"/projects/{project.slug}/pipelines/{pipeline.slug}/")
    page.locator("section#run").get_by_role("button", name="Run pipeline").click()
    expect(page).to_have_url(f"/projects/{project.slug}/pipelines/{pipeline.slug}/builds/1/")


def test_a_reviewer_approves_a_stage_from_the_build_page(
    admin_page, project, superuser, local_agent, screenshot
):
    page = admin_page
    run_from_the_page(page, project, superuser, "Deploy", REVIEWED)
    badge = page.locator("#build-status h1 .badge")
    expect(badge).to_have_text(re.compile("Waiting", re.I), timeout=30_000)
    review = page.locator(".stage-review")
    expect(review).to_contain_text("Deploy main to production?")
    expect(review).to_contain_text("Who may approve: admin")
    form = review.locator("form.review-form")
    form.get_by_label("target").select_option("production")
    form.get_by_label("Comment").fill("ship it")
    screenshot(page, "waiting")
    form.get_by_role("button", name="Approve").click()

    expect(page.locator(".messages")).to_contain_text("Stage approved.")
    expect(badge).to_have_text("Succeeded", timeout=30_000)
    expect(page.locator(".stage-review")).to_contain_text("Approved by admin")
    expect(page.locator(".stage-review")).to_contain_text("target=production")
    page.locator("li.job a", has_text="Deploy").click()
    deploying = page.locator("#log .log-text", has_text=re.compile(r"^deploying to production$"))
    expect(deploying).to_have_count(1)
    screenshot(page)


def test_a_gatekeeper_overrides_a_blocked_gate_from_the_build_page(
    admin_page, project, superuser, local_agent, screenshot
):
    page = admin_page
    run_from_the_page(page, project, superuser, "Gated", GATED)
    badge = page.locator("#build-status h1 .badge")
    expect(badge).to_have_text("Blocked", timeout=30_000)
    gate = page.locator(".stage-gate")
    expect(gate).to_contain_text("coverage.line is 64 (wanted coverage.line >= 80)")
    gate.get_by_label("Why may it go on?").fill("coverage tool broken today")
    screenshot(page, "blocked")
    gate.get_by_role("button", name="Override").click()
    expect(page.locator(".messages")).to_contain_text("The blocked gate was overridden")
    expect(badge).to_have_text("Succeeded", timeout=30_000)
    screenshot(page)
