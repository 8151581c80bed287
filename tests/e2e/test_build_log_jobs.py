"""In the browser, with the real engine and a real agent: choosing another job on the build page shows
its log in place (no reload; the URL, Back and Forward, permalinks per job; nothing of the old job
leaks in, not even its late answers or live batches), and groups start collapsed except the one a
followed running job is printing into, or one holding a line navigated to."""

import re

import pytest
from playwright.sync_api import expect

from apps.core.services import project_create
from tests.e2e.build_pages import (
    build_badge,
    group_row,
    log_row,
    row_seq,
    run_from_pipeline_page,
    wait_in_log_view,
)

pytestmark = [pytest.mark.django_db(transaction=True)]

BUILD = "/projects/shop/pipelines/{pipeline}/builds/1/"
TWO_JOBS = """name: two
jobs:
  alpha:
    name: Alpha
    runs-on: self-hosted
    steps:
      - run: |
          echo "::group::Build"
          for i in $(seq 1 10); do echo "alpha built $i"; done
          echo "::error::alpha broke inside"
          echo "::endgroup::"
          for i in $(seq 1 30); do echo "alpha line $i"; done
  bravo:
    name: Bravo
    runs-on: self-hosted
    steps:
      - run: |
          echo "::warning::bravo is careful"
          for i in $(seq 1 30); do echo "bravo line $i"; done
"""
STREAMS = """name: streams
jobs:
  stream:
    name: Stream
    runs-on: self-hosted
    needs: [quiet]
    steps:
      - run: |
          echo "::group::Done early"
          echo "early inside"
          echo "::endgroup::"
          echo "::group::Streaming"
          for i in $(seq 1 25); do echo "live $i"; sleep 0.3; done
          echo "::endgroup::"
          echo "after the group"
  quiet:
    name: Quiet
    runs-on: self-hosted
    steps:
      - run: echo "quiet line"
"""
# Answers of the log API reach the page `window.slowLogs` ms late while it is set: a slow network.
SLOW_LOGS = """
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const response = await realFetch(...args);
  const delay = window.slowLogs;
  if (delay && String(args[0]).includes("/logs/")) await new Promise((resolve) => setTimeout(resolve, delay));
  return response;
};
"""
# Records in `window.leaks` every row holding `word` that the viewer shows from now on while `job` is
# the job shown.
WATCH_ROWS = """([word, job]) => {
  window.leaks = [];
  new MutationObserver(() => {
    if (window.buildPage.viewer.job !== job) return;
    for (const row of document.querySelectorAll("#log .log-row")) {
      if (row.textContent.includes(word)) window.leaks.push(row.textContent);
    }
  }).observe(document.querySelector("#log .log-rows"), { childList: true });
}"""
STORED_TEXTS = "[...window.buildPage.viewer.store.lines.values()].map((line) => line.text)"


@pytest.fixture
def project(superuser):
    return project_create(user=superuser, slug="shop", name="Shop")


def test_choosing_a_job_shows_its_log_in_place(admin_page, project, superuser, local_agent, screenshot):
    page = admin_page
    page.add_init_script(SLOW_LOGS)
    run_from_pipeline_page(page, project, superuser, "Two", TWO_JOBS)
    expect(build_badge(page)).to_have_text("Succeeded", timeout=30_000)
    build = BUILD.format(pipeline="two")
    page.goto(f"{build}?job=alpha")
    expect(log_row(page, "alpha line 1")).to_be_visible()
    expect(log_row(page, "alpha built 1")).to_have_count(0)  # its group starts collapsed
    search = page.get_by_role("searchbox", name="Search this log")
    search.fill("alpha line 3")
    search.press("Enter")
    expect(page.locator(".log-search-count")).to_have_text("1 / 2")
    page.evaluate("window.marker = 'the same page'")

    page.locator("li.job a", has_text="Bravo").click()
    expect(page).to_have_url(f"{build}?job=bravo")
    expect(log_row(page, "bravo line 1")).to_be_visible()
    assert page.evaluate("window.marker") == "the same page"  # no reload
    expect(page.locator("li.job.selected .job-name")).to_have_text("Bravo")
    expect(page.locator("#job h2")).to_contain_text("Bravo")
    expect(page.locator("#log h2")).to_have_text("Log Bravo · attempt 1")
    expect(page.locator(".log-problems li")).to_have_text([re.compile(r"^L\d+ bravo is careful$")])
    expect(search).to_have_value("")
    expect(page.locator(".log-search-count")).to_have_text("")
    expect(page.get_by_label("Follow")).not_to_be_checked()
    expect(page.get_by_role("link", name="Download .txt")).to_have_attribute(
        "href", re.compile(r"/jobs/bravo/logs/download/\?attempt=1$")
    )
    assert not [text for text in page.evaluate(STORED_TEXTS) if "alpha" in text]
    screenshot(page, "switched")

    seq = row_seq(page, "bravo line 3")
    log_row(page, "bravo line 3").locator(".log-number").click()  # a permalink of this job
    expect(page).to_have_url(f"{build}?job=bravo&attempt=1#L{seq}")
    page.go_back()
    expect(page).to_have_url(f"{build}?job=alpha")
    expect(log_row(page, "alpha line 1")).to_be_visible()
    expect(page.locator("#log .log-row.selected")).to_have_count(0)
    expect(page.locator("li.job.selected .job-name")).to_have_text("Alpha")
    page.go_forward()
    expect(page).to_have_url(f"{build}?job=bravo&attempt=1#L{seq}")
    expect(log_row(page, "bravo line 3")).to_have_class(re.compile(r"\bselected\b"))
    assert page.evaluate("window.marker") == "the same page"
    page.reload()
    expect(log_row(page, "bravo line 3")).to_have_class(re.compile(r"\bselected\b"))
    expect(log_row(page, "bravo line 3")).to_be_in_viewport()

    page.evaluate(WATCH_ROWS, ["alpha", "bravo"])
    page.evaluate("window.slowLogs = 1000")
    page.locator("li.job a", has_text="Alpha").click()
    page.go_back()  # back on Bravo before Alpha's answers come: they must not show
    expect(page).to_have_url(f"{build}?job=bravo&attempt=1#L{seq}")
    expect(log_row(page, "bravo line 3")).to_have_class(re.compile(r"\bselected\b"), timeout=5_000)
    page.wait_for_timeout(1500)
    assert page.evaluate("window.leaks") == []
    assert not [text for text in page.evaluate(STORED_TEXTS) if "alpha" in text]
    expect(page.locator(".log-problems li")).to_have_text([re.compile(r"^L\d+ bravo is careful$")])
    page.evaluate("window.slowLogs = 0")

    page.locator("li.job a", has_text="Alpha").click()
    expect(page).to_have_url(f"{build}?job=alpha")
    problem = page.locator(".log-problems li", has_text="alpha broke inside")
    problem.get_by_role("link").click()  # a line in the errors panel: its group opens
    broken = page.locator("#log .log-row.level-error")
    expect(broken).to_be_in_viewport()
    expect(broken).to_have_class(re.compile(r"\bselected\b"))
    expect(log_row(page, "alpha built 10")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"\?job=alpha&attempt=1#L{broken.get_attribute('data-seq')}$"))
    screenshot(page)


def test_a_followed_open_group_shows_its_live_lines(admin_page, project, superuser, local_agent, screenshot):
    page = admin_page
    page.add_init_script(SLOW_LOGS)
    run_from_pipeline_page(page, project, superuser, "Streams", STREAMS)
    build = BUILD.format(pipeline="streams")
    page.goto(f"{build}?job=stream")
    expect(log_row(page, "live 1")).to_be_visible(timeout=20_000)
    expect(build_badge(page)).to_have_text("Running")
    streaming = group_row(page, "Streaming")
    expect(streaming.get_by_role("button", name="Collapse group")).to_have_attribute("aria-expanded", "true")
    expect(log_row(page, "early inside")).to_have_count(0)  # a group that ended starts collapsed
    group_row(page, "Done early").get_by_role("button", name="Expand group").click()
    expect(log_row(page, "early inside")).to_be_visible()
    wait_in_log_view(page, "live 4")  # live lines keep showing inside the group
    expect(page.get_by_label("Follow")).to_be_checked()
    screenshot(page, "streaming")

    page.evaluate(WATCH_ROWS, ["live ", "quiet"])
    page.evaluate("window.slowLogs = 1500")  # the live batches of Stream keep coming meanwhile
    received = page.evaluate("window.buildPage.socket.received['log.appended'] || 0")
    page.locator("li.job a", has_text="Quiet").click()
    expect(page).to_have_url(f"{build}?job=quiet")
    expect(log_row(page, "quiet line")).to_be_visible(timeout=5_000)
    assert page.evaluate("window.buildPage.socket.received['log.appended']") > received
    page.wait_for_timeout(500)
    assert page.evaluate("window.leaks") == []
    assert not [text for text in page.evaluate(STORED_TEXTS) if text.startswith("live ")]
    page.evaluate("window.slowLogs = 0")

    page.go_back()
    expect(page).to_have_url(f"{build}?job=stream")
    expect(log_row(page, "early inside")).to_be_visible()  # the user's choice outlives the switch
    expect(log_row(page, "after the group")).to_be_visible(timeout=30_000)
    expect(log_row(page, "live 1")).to_have_count(0)  # ended while followed: it folded
    expect(streaming.get_by_role("button", name="Expand group")).to_be_visible()
    expect(log_row(page, "early inside")).to_be_visible()  # and across the live lines
    expect(build_badge(page)).to_have_text("Succeeded", timeout=30_000)
    screenshot(page)


MANY_GROUPS = """name: many
jobs:
  many:
    runs-on: self-hosted
    steps:
      - run: |
          echo "::group::Outer"
          for i in $(seq 1 600); do echo "::group::Part $i"; echo "inside $i"; echo "::endgroup::"; done
          echo "::endgroup::"
          echo "all parts done"
"""


def test_a_group_ending_after_a_thousand_markers_starts_collapsed(
    admin_page, project, superuser, local_agent, screenshot
):
    """1,202 group markers: more than one page of the outline search (1,000 matches each). With
    only the first page, Outer's end was unknown and it stayed open."""
    page = admin_page
    run_from_pipeline_page(page, project, superuser, "Many", MANY_GROUPS)
    expect(build_badge(page)).to_have_text("Succeeded", timeout=60_000)
    page.reload()
    expect(log_row(page, "all parts done")).to_be_visible(timeout=10_000)
    expect(group_row(page, "Outer")).to_be_visible()
    expect(group_row(page, "Part 1")).to_have_count(0)
    screenshot(page)
