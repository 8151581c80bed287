"""In the browser, with the real engine and a real agent: the build page's graph goes green and the
log arrives live over the websocket (also across a dropped connection); line permalinks, groups,
search and downloads; a 200,000-line log opens and scrolls to its end; the pipeline editor shows
YAML problems at their lines as one types; the viewer's ANSI and group modules on their own."""

import io
import json
import re
import tarfile
import threading
import time
import zipfile
from datetime import UTC, datetime

import pytest
from django.db import connections
from playwright.sync_api import expect

from apps.core.services import project_create
from apps.log.selectors import log_total_lines
from apps.log.services import log_lines_append
from apps.process.choices import Status
from apps.process.models import Build, JobRun, StageRun
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from tests.e2e.build_pages import build_badge, group_row, log_row, row_seq, run_from_pipeline_page
from tests.e2e.pipelines import WITH_PROBLEMS

pytestmark = [pytest.mark.django_db(transaction=True)]

LIVE = r"""name: live
jobs:
  prepare:
    name: Prepare
    runs-on: self-hosted
    steps:
      - name: Talk
        run: |
          printf '\033[31mred\033[0m \033[1;4mbold\033[0m '
          printf '\033[38;5;208morange\033[0m \033[38;2;10;20;30mdeep\033[0m\n'
          echo "::group::Details"
          echo "inside the group"
          echo "::endgroup::"
          echo "::warning::careful with <b>this</b>"
          for i in $(seq 1 40); do echo "filler $i"; done
          for i in $(seq 1 12); do echo "tick $i"; sleep 0.3; done
  test:
    name: Test
    runs-on: self-hosted
    needs: [prepare]
    strategy:
      matrix:
        py: ["3.11", "3.12"]
    steps:
      - run: echo "testing ${{ matrix.py }}"
  ship:
    name: Ship
    runs-on: self-hosted
    needs: [test]
    steps:
      - run: echo shipped
"""
PRINT = """name: print
jobs:
  print:
    name: Print
    runs-on: self-hosted
    steps:
      - name: Print
        run: |
          echo "::group::Setup"
          for i in $(seq 1 20); do echo "setup $i"; done
          echo "::endgroup::"
          for i in $(seq 1 300); do echo "row $i"; done
          for n in one two three; do echo "need""le $n"; done
"""
NOWHERE = """name: big
jobs:
  big:
    name: Big
    runs-on: nowhere
    steps:
      - run: echo never runs here
"""
VALID = """name: deploy
jobs:
  build:
    runs-on: self-hosted
    steps:
      - run: echo building
"""


@pytest.fixture
def project(superuser):
    return project_create(user=superuser, slug="shop", name="Shop")


def test_graph_goes_green_and_the_log_arrives_live(admin_page, project, superuser, local_agent, screenshot):
    page = admin_page
    run_from_pipeline_page(page, project, superuser, "Live", LIVE)

    expect(page.locator("li.job.selected .job-name")).to_have_text("Prepare")
    groups = page.locator(".job-group")
    expect(groups.locator(".job-name")).to_have_text(["Prepare", "Test (3.11)", "Test (3.12)", "Ship"])
    expect(page.locator(".job-group.matrix[data-job-id=test] li.job")).to_have_count(2)
    arrows = page.locator("svg.needs-arrows path.needs-arrow")
    expect(arrows).to_have_count(2)
    assert [(arrow.get_attribute("data-from"), arrow.get_attribute("data-to")) for arrow in arrows.all()] == [
        ("prepare", "test"), ("test", "ship"),
    ]

    page.wait_for_function("window.buildPage !== undefined")
    expect(log_row(page, "tick 1")).to_be_visible(timeout=20_000)
    expect(build_badge(page)).to_have_text("Running")  # the line came while the job still runs
    assert page.evaluate("window.buildPage.socket.open")
    page.evaluate("window.buildPage.socket.drop()")  # a dropped connection resumes from the last line
    screenshot(page, "running")

    follow = page.get_by_label("Follow")
    expect(follow).to_be_checked()
    scroller = page.locator("#log .log-scroll")
    scroller.hover()
    page.mouse.wheel(0, -200)  # scrolling up stops following
    expect(follow).not_to_be_checked()
    held = scroller.evaluate("element => element.scrollTop")
    total = page.evaluate("window.buildPage.viewer.store.total")
    page.wait_for_function(f"window.buildPage.viewer.store.total > {total}")
    page.wait_for_timeout(100)
    assert scroller.evaluate("element => element.scrollTop") == held
    scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
    expect(follow).to_be_checked()  # back at the bottom it follows again

    expect(build_badge(page)).to_have_text("Succeeded", timeout=30_000)
    expect(page.locator("li.job .badge")).to_have_text(["Succeeded"] * 4)
    expect(log_row(page, "tick 12")).to_be_in_viewport()
    assert page.evaluate("window.buildPage.socket.connections") == 2  # it came back after the drop
    received = page.evaluate("window.buildPage.socket.received")
    assert received.get("log.appended", 0) >= 1 and received.get("build.changed", 0) >= 1, received
    lines = page.evaluate("[...window.buildPage.viewer.store.lines.values()].sort((a, b) => a.seq - b.seq)")
    assert [line["seq"] for line in lines] == list(range(1, len(lines) + 1))  # no gap, no duplicate
    ticks = [line["text"] for line in lines if line["text"].startswith("tick ")]
    assert ticks == [f"tick {i}" for i in range(1, 13)]
    expect(page.locator("#log .log-row.loading")).to_have_count(0)
    scroller.evaluate("element => { element.scrollTop = 0; }")

    ansi = log_row(page, "red bold orange deep")
    expect(ansi.locator("span.ansi-fg-1")).to_have_text("red")
    expect(ansi.locator("span.ansi-bold.ansi-underline")).to_have_text("bold")
    expect(ansi.get_by_text("orange", exact=True)).to_have_css("color", "rgb(255, 135, 0)")
    expect(ansi.get_by_text("deep", exact=True)).to_have_css("color", "rgb(10, 20, 30)")
    warning = page.locator("#log .log-row.level-warning")
    expect(warning.locator(".log-text")).to_have_text("warningcareful with <b>this</b>")
    expect(page.locator(".log-problems li")).to_have_text(re.compile(r"^L\d+ careful with <b>this</b>$"))
    screenshot(page)


def test_permalinks_groups_search_and_downloads(admin_page, project, superuser, local_agent, screenshot):
    page = admin_page
    run_from_pipeline_page(page, project, superuser, "Print", PRINT)
    page.wait_for_function("window.buildPage !== undefined")
    page.evaluate("window.buildPage.socket.close()")  # without the websocket the page polls
    expect(build_badge(page)).to_have_text("Succeeded", timeout=30_000)
    expect(log_row(page, "needle three")).to_be_attached()
    page.reload()
    group = group_row(page, "Setup")
    expect(log_row(page, "row 1")).to_be_visible()
    expect(log_row(page, "setup 1")).to_have_count(0)  # groups start collapsed
    expect(group.get_by_role("button", name="Expand group")).to_have_attribute("aria-expanded", "false")
    expect(page.locator("#log .log-time").first).to_be_hidden()
    page.get_by_label("Timestamps").check()
    expect(page.locator("#log .log-time").first).to_have_text(re.compile(r"^\d\d:\d\d:\d\d\.\d{3}$"))
    page.get_by_label("Wrap").check()
    expect(page.locator("#log")).to_have_class(re.compile(r"\blog-wrap\b"))
    page.get_by_label("Wrap").uncheck()
    group.get_by_role("button", name="Expand group").click()

    first = row_seq(page, "setup 3")
    log_row(page, "setup 3").locator(".log-number").click()
    permalink = "/projects/shop/pipelines/print/builds/1/?job=print&attempt=1"
    expect(page).to_have_url(f"{permalink}#L{first}")
    log_row(page, "setup 8").locator(".log-number").click(modifiers=["Shift"])
    expect(page).to_have_url(f"{permalink}#L{first}-L{first + 5}")
    expect(page.locator("#log .log-row.selected")).to_have_count(6)
    page.reload()  # the group starts collapsed again; the permalink opens it
    selected = page.locator("#log .log-row.selected")
    expect(selected).to_have_count(6)
    expect(selected.first.locator(".log-text")).to_have_text("setup 3")
    expect(selected.first).to_be_in_viewport()
    screenshot(page, "permalink")

    group.get_by_role("button", name="Collapse group").click()
    expect(log_row(page, "setup 1")).to_have_count(0)
    expect(log_row(page, "row 1")).to_be_visible()
    screenshot(page, "collapsed")
    group.get_by_role("button", name="Expand group").click()
    expect(log_row(page, "setup 1")).to_be_visible()

    group.get_by_role("button", name="Collapse group").click()
    search = page.get_by_role("searchbox", name="Search this log")
    search.fill("setup 7")
    search.press("Enter")
    expect(page.locator(".log-search-count")).to_have_text("1 / 1")
    expect(log_row(page, "setup 7")).to_be_in_viewport()  # the match opened its group

    search.fill("NEEDLE")
    search.press("Enter")
    count = page.locator(".log-search-count")
    current = page.locator("#log .log-row.current-match .log-text")
    expect(count).to_have_text("1 / 3")
    expect(current).to_have_text("needle one")
    expect(page.locator("#log .log-row.current-match mark")).to_have_text("needle")
    page.get_by_role("button", name="Next match").click()
    expect(count).to_have_text("2 / 3")
    expect(current).to_have_text("needle two")
    page.get_by_role("button", name="Previous match").click()
    page.get_by_role("button", name="Previous match").click()
    expect(count).to_have_text("3 / 3")
    expect(current).to_have_text("needle three")
    page.get_by_label("regex").check()
    search.fill("row 1[0-9]$")
    search.press("Enter")
    expect(count).to_have_text("1 / 10")
    expect(current).to_have_text("row 10")
    screenshot(page, "search")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download .txt").click()
    text = open(download.value.path(), encoding="utf-8").read()
    assert download.value.suggested_filename == "print-1-print.txt"
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("row ")] == [f"row {i}" for i in range(1, 301)]
    assert lines.index("needle one") < lines.index("needle three")

    with page.expect_download() as download:
        page.get_by_role("link", name="Build .zip").click()
    with zipfile.ZipFile(download.value.path()) as archive:
        assert archive.namelist() == ["print.txt"]
        assert archive.read("print.txt").decode() == text
    with page.expect_download() as download:
        page.get_by_role("link", name="Build .tar.gz").click()
    with tarfile.open(download.value.path(), "r:gz") as archive:
        member = archive.extractfile("print.txt")
        assert io.TextIOWrapper(member, encoding="utf-8").read() == text
    screenshot(page)


def test_a_200000_line_log_opens_and_scrolls_to_its_end(admin_page, project, superuser, screenshot):
    pipeline = pipeline_create(project=project, user=superuser, name="Big", yaml=NOWHERE)
    build = build_start(pipeline=pipeline, user=superuser)
    job = JobRun.objects.get(build=build, key="big")
    stamp = datetime.now(UTC).isoformat()

    def insert():  # in a thread of its own: this one runs Playwright's event loop, which publishing avoids
        try:
            for start in range(1, 200_001, 20_000):
                seqs = range(start, start + 20_000)
                lines = [{"seq": seq, "ts": stamp, "text": f"line {seq} \x1b[32mok\x1b[0m"} for seq in seqs]
                log_lines_append(job=job, attempt=1, lines=lines)
        finally:
            connections.close_all()

    writer = threading.Thread(target=insert)
    writer.start()
    writer.join()
    assert log_total_lines(job=job, attempt=1) == 200_000
    now = datetime.now(UTC)
    done = {"status": Status.SUCCEEDED, "started_at": now, "finished_at": now}
    JobRun.objects.filter(pk=job.pk).update(**done)
    StageRun.objects.filter(build=build).update(**done)
    Build.objects.filter(pk=build.pk).update(**done)

    page = admin_page
    started = time.monotonic()
    page.goto(f"/projects/shop/pipelines/big/builds/{build.number}/?job=big")
    expect(log_row(page, "line 1 ok")).to_be_visible()
    opened = time.monotonic() - started
    assert page.locator("#log .log-row").count() < 200  # only the rows in view (and a margin) exist

    scroller = page.locator("#log .log-scroll")
    scroller.scroll_into_view_if_needed()
    scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
    expect(log_row(page, "line 200000 ok")).to_be_in_viewport()
    scroller.evaluate("element => { element.scrollTop = 99_990 * 20; }")  # rows are 20 px high
    expect(page.locator("#log .log-row.loading")).to_have_count(0)
    expect(page.locator('#log .log-row[data-seq="100000"] .log-text')).to_have_text("line 100000 ok")
    expect(page.locator('#log .log-row[data-seq="100000"]')).to_be_in_viewport()
    assert page.evaluate("window.buildPage.viewer.store.lines.size") <= 30_000
    screenshot(page)
    assert opened < 5, f"opening the 200,000-line log took {opened:.1f} s"


def test_the_pipeline_editor_shows_problems_at_their_lines(admin_page, project, superuser, screenshot):
    pipeline_create(project=project, user=superuser, name="Deploy", yaml=VALID)
    page = admin_page
    page.goto("/projects/shop/pipelines/deploy/edit/")
    check = page.locator(".yaml-check")
    expect(check).to_have_text("✓ The YAML is valid.")

    page.get_by_role("textbox", name=re.compile("^YAML")).fill(WITH_PROBLEMS)
    expect(page.locator(".yaml-numbers .problem")).to_have_text(["5", "10"])
    notes = page.locator(".yaml-note")
    expect(notes).to_have_text([
        re.compile(r"^col 5: unknown key 'timeout-minute' in job"),
        re.compile(r"^col 13: needs 'biuld', which is not a job"),
    ])
    expect(check.locator("strong")).to_have_text("2 problems")
    line_height = 19
    tops = [note.evaluate("n => n.getBoundingClientRect().top") for note in notes.all()]
    assert round(tops[1] - tops[0]) == 5 * line_height  # each note sits level with its line
    screenshot(page, "problems")

    check.get_by_role("link", name="10:13").click()
    caret = page.evaluate("document.activeElement.value.slice(0, document.activeElement.selectionStart)")
    assert caret.count("\n") == 9

    page.get_by_role("button", name="Save").click()
    expect(page.locator("section.problems h2")).to_have_text("2 problems in the YAML")
    expect(page.locator(".yaml-numbers .problem")).to_have_text(["5", "10"])

    page.get_by_role("textbox", name=re.compile("^YAML")).fill(VALID.replace("building", "building again"))
    expect(check).to_have_text("✓ The YAML is valid.")
    expect(page.locator(".yaml-numbers .problem")).to_have_count(0)
    screenshot(page)


ANSI_AND_GROUPS = """async () => {
  const { ansiSegments, ansiStrip, appendAnsi } = await import("/static/js/ansi.js");
  const { GroupOutline, parseMarker } = await import("/static/js/log_groups.js");
  const runs = (text) => ansiSegments(text).map(({ text, style }) => [text, JSON.stringify(style)]);
  const holder = document.createElement("div");
  appendAnsi(holder, "\\x1b[31m<img src=x onerror=alert(1)>\\x1b[0m & done", [[1, 4]], 0);
  const outline = new GroupOutline();
  [[2, "group"], [5, "endgroup"], [7, "group"]].forEach(([seq, kind]) => outline.note(seq, kind));
  outline.update(10); // before the outline search answers, group 7 may end anywhere: it shows open
  const collapsedOne = [outline.rowCount(10), outline.seqAt(2), outline.rowOf(6), outline.rowOf(4)];
  outline.extent = "complete";
  outline.update(10);
  const collapsedBoth = [outline.rowCount(10), outline.hidden];
  outline.setFollowing(true); // the running job's open group shows its live lines
  outline.update(10);
  const following = outline.hidden.map((range) => [...range]);
  outline.setFollowing(false); // and stays open when following stops
  outline.update(12);
  const stopped = outline.hidden.map((range) => [...range]);
  const live = new GroupOutline();
  live.extent = "complete";
  live.note(1, "group");
  live.setFollowing(true);
  live.update(4);
  const liveOpen = live.hidden.length;
  live.note(5, "endgroup"); // ended while followed: it folds
  live.update(6);
  const liveEnded = live.hidden.map((range) => [...range]);
  const revealed = new GroupOutline();
  revealed.extent = "complete";
  const nested = [[2, "group"], [3, "group"], [5, "endgroup"], [6, "endgroup"]];
  nested.forEach(([seq, kind]) => revealed.note(seq, kind));
  revealed.update(8);
  const reveal = [revealed.reveal(4), revealed.reveal(4), (revealed.update(8), revealed.hidden.length)];
  revealed.toggle(3);
  revealed.update(8);
  const toggled = [[...revealed.choices], revealed.hidden.map((range) => [...range])];
  return {
    reset: runs("\\x1b[1;31mA\\x1b[0mB\\x1b[Kc"),
    colours: runs("\\x1b[48;5;21mx\\x1b[49;100my\\x1b[38;2;300;0;0mz\\x1b[92;4mw\\x1b[24;39mv"),
    stripped: ansiStrip("\\x1b[38;5;208morange\\x1b[0m!"),
    html: holder.innerHTML,
    images: holder.querySelectorAll("img").length,
    collapsedOne,
    collapsedBoth,
    following,
    stopped,
    liveOpen,
    liveEnded,
    reveal,
    toggled,
    markers: ["::group::Build it", "##[endgroup]", "::error file=a.py,line=3::bad", "  ##[warning]hm",
      "::set-output::x"].map((text) => parseMarker(text)),
  };
}"""


def test_ansi_rendering_and_group_rows(admin_page, screenshot):
    """The viewer's modules, run in the browser on their own (they need no page of their own)."""
    found = admin_page.evaluate(ANSI_AND_GROUPS)
    screenshot(admin_page)
    plain = '{"fg":null,"bg":null,"bold":false,"dim":false,"italic":false,"underline":false}'
    red_bold = '{"fg":{"name":"1"},"bg":null,"bold":true,"dim":false,"italic":false,"underline":false}'
    assert found["reset"] == [["A", red_bold], ["B", plain], ["c", plain]]
    styles = [json.loads(style) for _, style in found["colours"]]
    assert [text for text, _ in found["colours"]] == ["x", "y", "z", "w", "v"]
    assert styles[0]["bg"] == {"rgb": [0, 0, 255]}
    assert styles[1]["bg"] == {"name": "8"}
    assert styles[2]["bg"] == {"name": "8"} and styles[2]["fg"] is None  # 300 is no colour: ignored
    assert styles[3]["fg"] == {"name": "10"} and styles[3]["underline"]
    assert styles[4]["fg"] is None and not styles[4]["underline"]
    assert found["stripped"] == "orange!"
    assert found["images"] == 0
    assert found["html"] == (
        '<span class="ansi-fg-1">&lt;</span><mark class="current"><span class="ansi-fg-1">img</span></mark>'
        '<span class="ansi-fg-1"> src=x onerror=alert(1)&gt;</span> &amp; done'
    )
    assert found["collapsedOne"] == [7, 6, 2, 1]  # rows 3..5 hidden; line 4 shows as its group's row
    assert found["collapsedBoth"] == [4, [[3, 5], [8, 10]]]
    assert found["following"] == [[3, 5]]
    assert found["stopped"] == [[3, 5]]
    assert found["liveOpen"] == 0
    assert found["liveEnded"] == [[2, 5]]
    assert found["reveal"] == [True, False, 0]  # both groups around line 4 open
    assert found["toggled"] == [[[2, True], [3, False]], [[4, 5]]]
    assert found["markers"] == [
        {"kind": "group", "rest": "Build it"},
        {"kind": "endgroup", "rest": ""},
        {"kind": "error", "rest": "bad"},
        {"kind": "warning", "rest": "hm"},
        None,
    ]
