"""In the browser: a user logs in, creates a project and gives another user a role in it."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import expect

from tests.e2e.conftest import PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True)]


def test_log_in_create_a_project_and_add_a_member(browser_page, log_in, screenshot):
    users = get_user_model().objects
    users.create_user(username="alice", password=PASSWORD)
    users.create_user(username="bob", password=PASSWORD)
    page = browser_page

    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    log_in(page, "alice")
    expect(page.get_by_role("heading", name="Your projects")).to_be_visible()
    expect(page.locator(".topbar")).to_contain_text("alice")

    page.get_by_role("link", name="New project").click()
    page.get_by_label("Slug").fill("web-shop")
    page.get_by_label("Name").fill("Web shop")
    page.get_by_label("Description").fill("The storefront and its API.")
    page.get_by_role("button", name="Create").click()

    expect(page).to_have_url("/projects/web-shop/")
    expect(page.get_by_role("heading", name="Web shop", level=1)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("Project Web shop created; you are its owner.")

    members = page.locator("section.card", has=page.get_by_role("heading", name="Members"))
    members.get_by_label("Username", exact=True).fill("bob")
    members.get_by_label("Role", exact=True).select_option("maintainer")
    members.get_by_role("button", name="Add member").click()

    expect(page.locator(".messages")).to_contain_text("bob added as maintainer.")
    rows = members.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="alice").locator(".badge")).to_have_text("owner")
    expect(rows.filter(has_text="bob").locator(".badge")).to_have_text("maintainer")
    screenshot(page)
