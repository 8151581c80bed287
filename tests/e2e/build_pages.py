"""What the browser tests of the build page share: starting a build from the pipeline page and
finding the log's rows."""

import re

from playwright.sync_api import expect

from apps.process.services import pipeline_create


def run_from_pipeline_page(page, project, superuser, name: str, yaml: str):
    pipeline = pipeline_create(project=project, user=superuser, name=name, yaml=yaml)
    page.goto(f"/projects/{project.slug}/pipelines/{pipeline.slug}/")
    page.locator("section#run").get_by_role("button", name="Run pipeline").click()
    expect(page).to_have_url(f"/projects/{project.slug}/pipelines/{pipeline.slug}/builds/1/")
    return pipeline


def build_badge(page):
    return page.locator("#build-status h1 .badge")


def log_row(page, text: str):
    text_is = page.locator(".log-text", has_text=re.compile(f"^{re.escape(text)}$"))
    return page.locator("#log .log-row").filter(has=text_is)


def row_seq(page, text: str) -> int:
    return int(log_row(page, text).get_attribute("data-seq"))


def group_row(page, name: str):
    """The first row of the group called name (its text is the toggle's arrow and the name)."""
    return page.locator("#log .log-row.group-start").filter(
        has=page.locator(".log-text", has_text=re.compile(f"^[▾▸]{re.escape(name)}$"))
    )


IN_LOG_VIEW = """(text) => {
  const view = document.querySelector("#log .log-scroll").getBoundingClientRect();
  return [...document.querySelectorAll("#log .log-row")].some((row) => {
    const box = row.getBoundingClientRect();
    const shown = box.top >= view.top && box.bottom <= view.bottom;
    return shown && row.querySelector(".log-text").textContent === text;
  });
}"""


def wait_in_log_view(page, text: str, timeout: float = 5_000) -> None:
    """Waits until the row of text lies within the visible part of the log's scroll area."""
    page.wait_for_function(IN_LOG_VIEW, arg=text, timeout=timeout)
