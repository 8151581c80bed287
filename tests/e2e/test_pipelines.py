"""In the browser: a pipeline pasted with mistakes shows each problem at its line; fixed, saved, edited
again, it has two versions whose sha256 and diff the pages show."""

import hashlib
import re

import pytest
from playwright.sync_api import expect

from apps.core.services import project_create
from tests.e2e.pipelines import WITH_PROBLEMS

pytestmark = [pytest.mark.django_db(transaction=True)]

FIXED = WITH_PROBLEMS.replace("timeout-minute:", "timeout-minutes:").replace("[biuld]", "[build]")
EDITED = FIXED.replace("echo shipping", "echo shipping to production")


def yaml_box(page):
    """The YAML box once the editor has wrapped it: text typed while it moves the box is lost."""
    expect(page.locator(".yaml-editor textarea")).to_be_attached()
    return page.get_by_role("textbox", name=re.compile("^YAML"))


def test_problems_at_their_lines_then_versions_and_diff(admin_page, superuser, screenshot):
    project_create(user=superuser, slug="shop", name="Shop")
    page = admin_page

    page.goto("/projects/shop/")
    page.get_by_role("link", name="New pipeline").click()
    page.get_by_label("Name").fill("Deploy")
    yaml_box(page).fill(WITH_PROBLEMS)
    page.get_by_role("button", name="Create pipeline").click()

    problems = page.locator("section.problems")
    expect(problems.get_by_role("heading")).to_have_text("2 problems in the YAML")
    expect(problems.locator(".problem-list li")).to_have_text([
        re.compile(r"^5:5: unknown key 'timeout-minute' in job; did you mean 'timeout-minutes'\?"),
        re.compile(r"^10:13: needs 'biuld', which is not a job; did you mean 'build'\?"),
    ])
    highlighted = problems.locator("tr.problem-line")
    expect(highlighted).to_have_count(2)
    expect(highlighted.locator(".line-number")).to_have_text(["5", "10"])
    expect(highlighted.nth(0).locator("pre")).to_have_text("    timeout-minute: 10")
    expect(highlighted.nth(1).locator("pre")).to_have_text("    needs: [biuld]")
    expect(yaml_box(page)).to_have_value(WITH_PROBLEMS)
    screenshot(page, "problems")

    yaml_box(page).fill(FIXED)
    page.get_by_role("button", name="Create pipeline").click()
    expect(page).to_have_url("/projects/shop/pipelines/deploy/")
    expect(page.locator(".messages")).to_contain_text("Pipeline Deploy created.")

    page.get_by_role("link", name="Edit", exact=True).click()
    expect(yaml_box(page)).to_have_value(FIXED)
    yaml_box(page).fill(EDITED)
    page.get_by_label("Version note").fill("ship to production")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Pipeline saved.")

    versions_card = page.locator("section.card", has=page.get_by_role("heading", name="Versions"))
    versions = versions_card.locator("tbody tr")
    expect(versions).to_have_count(2)
    expect(versions.locator("td:first-child")).to_have_text(["v2", "v1"])
    expect(versions.nth(0)).to_contain_text("ship to production")
    digests = [hashlib.sha256(text.encode()).hexdigest() for text in (EDITED, FIXED)]
    expect(versions.locator("td code")).to_have_text([f"{digest[:12]}…" for digest in digests])
    screenshot(page, "versions")

    versions.nth(0).get_by_role("link", name="v2").click()
    expect(page.locator(".facts")).to_contain_text(digests[0])

    page.get_by_role("link", name="Compare with version 1").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Deploy: version 1 → 2")
    expect(page.locator(".diff-removed")).to_have_text(["-      - run: echo shipping"])
    expect(page.locator(".diff-added")).to_have_text(["+      - run: echo shipping to production"])
    screenshot(page)
