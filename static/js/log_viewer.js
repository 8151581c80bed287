/* The log viewer of the build page: one job attempt's lines in a virtual scroll area (only the visible
   rows exist in the DOM; every row is ROW px high while wrap is off), pages fetched on demand, live
   lines from the websocket (REST polling while it is down), line-number permalinks (#L120,
   #L120-L140), collapsible groups, error/warning lines listed, timestamps, wrap and follow toggles,
   and search. `open` shows another job in place: everything about the old job is dropped, including
   its answers and live batches that arrive late. Log text reaches the page only through textContent
   (see ansi.js). */

import { ansiStrip, appendAnsi } from "./ansi.js";
import { FINISHED } from "./build_graph.js";
import { element } from "./dom.js";
import { GroupOutline, OUTLINE_PATTERN, PROBLEM_PATTERN, parseMarker } from "./log_groups.js";
import { ProblemList, problemLevel } from "./log_problems.js";
import { LogSearchBox } from "./log_search.js";
import { LogStore, logSearch, logSearchAll } from "./log_store.js";

const ROW = 20; // px: .log-row's height in app.css
const OVERSCAN = 20;
const POLL_MS = 1500;
const SAFETY_POLL_MS = 10000; // while the socket is up: a lost last batch still shows up
const LIVE_BATCH = 1000;
const OUTLINE_PAGES = 100; // group markers known up front: 100,000
const FIRST_PAGE = 500;
const HASH = /^#L(\d+)(?:-L(\d+))?$/;
const PREFERENCES = "devops.log.preferences";

export class LogViewer {
  constructor(root, socket) {
    this.root = root;
    this.socket = socket;
    this.apiBuild = root.dataset.apiBuild;
    this.scroller = root.querySelector(".log-scroll");
    this.spacer = root.querySelector(".log-spacer");
    this.rows = root.querySelector(".log-rows");
    this.state = root.querySelector(".log-state");
    this.choices = new Map(); // "job/attempt" -> that log's group choices, kept while the page is open
    this.problems = new ProblemList(root.querySelector(".log-problems"), (seq) => this.choose(seq));
    this.search = new LogSearchBox(this, root.querySelector("form.log-search"));
    this.frame = 0;
    this.toggles = root.querySelector(".log-toggles");
    this.setUpToggles();
    this.setUpEvents();
    socket.on("log.appended", (message) => this.onLive(message));
    socket.on("build.changed", (message) => this.onBuildChanged(message));
    socket.on("state", (up) => this.startPolling(up ? SAFETY_POLL_MS : POLL_MS));
    const { job, attempt, live, jobName } = root.dataset;
    this.open({ job, attempt: Number(attempt), live: live === "true", name: jobName });
  }

  /* --- the job shown --------------------------------------------------------------------------- */

  /* Shows a job attempt's log ({job: key, attempt, live, name}); the selection is the URL's #L hash. */
  open({ job, attempt, live, name }) {
    Object.assign(this, { job, attempt, live });
    this.jobUrl = `${this.apiBuild}jobs/${encodeURIComponent(job)}/`;
    this.searchUrl = `${this.jobUrl}logs/search/`;
    this.stopPolling();
    const store = new LogStore({
      url: `${this.jobUrl}logs/`,
      attempt,
      onChange: () => this.schedule(),
      onLines: (lines) => store === this.store && this.note(lines),
    });
    this.store = store;
    const choices = `${job}/${attempt}`;
    if (!this.choices.has(choices)) this.choices.set(choices, new Map());
    this.groups = new GroupOutline(this.choices.get(choices));
    this.problems.reset();
    this.search.reset();
    this.selection = null;
    this.say("");
    this.label(name);
    this.rows.replaceChildren();
    this.spacer.style.height = "0";
    this.scrollTo(0);
    this.load(store);
  }

  label(name) {
    const { root, attempt, live } = this;
    Object.assign(root.dataset, { job: this.job, attempt: String(attempt), live: String(live), jobName: name });
    root.setAttribute("aria-label", `Log of ${name}`);
    root.querySelector(".log-job").textContent = `${name} · attempt ${attempt}`;
    root.querySelector(".log-download-job").href = `${this.jobUrl}logs/download/?attempt=${attempt}`;
    root.querySelector(".log-empty").textContent = live ? "No log lines yet." : "No log lines.";
  }

  /* The first page (and the last one when following), then the live lines; every step stops when
     another job was opened meanwhile. */
  async load(store) {
    const wanted = this.readHash();
    this.setFollow(this.live && !wanted);
    const outline = this.loadOutline(store);
    try {
      await store.fetchPage(0, FIRST_PAGE);
      if (this.follow && store.total > FIRST_PAGE) {
        await store.fetchPage(Math.max(FIRST_PAGE, store.total - FIRST_PAGE), FIRST_PAGE);
      }
      if (store === this.store && store.complete) this.finish();
    } catch (error) {
      if (store === this.store) this.say(`The log could not be loaded: ${error.message}`);
    }
    if (store !== this.store) return;
    this.socket.follow(this.job, this.attempt, () => store.total);
    this.startPolling(this.socket.open ? SAFETY_POLL_MS : POLL_MS);
    this.schedule();
    await outline; // a permalinked line may sit in a group the first page does not show
    if (wanted && store === this.store) this.applyHash(true);
  }

  /* Group starts/ends (every one, up to OUTLINE_PAGES pages of 1,000) and error/warning lines (the
     first 1,000) of the whole job, from two searches. */
  async loadOutline(store) {
    const options = { regex: true, attempt: this.attempt };
    const [outline, problems] = await Promise.all([
      logSearchAll(this.searchUrl, { q: OUTLINE_PATTERN, pages: OUTLINE_PAGES, ...options }).catch(() => null),
      logSearch(this.searchUrl, { q: PROBLEM_PATTERN, ...options }).catch(() => null),
    ]);
    if (store !== this.store) return;
    this.note(outline?.matches || [], false);
    this.note(problems?.matches || [], true);
    this.groups.extent = outline && !outline.truncated ? "complete" : "partial";
    this.schedule();
  }

  /* Records what lines say about groups and problems. */
  note(lines, withProblems = true) {
    let problems = false;
    for (const line of lines) {
      const marker = parseMarker(line.text);
      if (marker) this.groups.note(line.seq, marker.kind);
      if (withProblems && this.problems.note(line, marker)) problems = true;
    }
    if (problems) this.problems.render();
  }

  onLive(message) {
    if (message.job !== this.job || (message.attempt && message.attempt !== this.attempt)) return;
    this.store.add(message.lines || []);
    this.schedule();
  }

  onBuildChanged(message) {
    const mine = (message.jobs || []).find((job) => job.key === this.job);
    if (this.live && mine && FINISHED.includes(mine.status)) this.catchUp();
  }

  /* The lines after the last one the page has, from REST: the record, whatever the socket missed. */
  async catchUp() {
    const store = this.store;
    try {
      if ((await store.fetchTail(LIVE_BATCH)) && store === this.store) this.finish();
    } catch (error) {
      console.warn("log catch-up failed; trying again", error);
    }
    this.schedule();
  }

  startPolling(period) {
    this.stopPolling();
    if (this.live) this.poller = setInterval(() => this.catchUp(), period);
  }

  stopPolling() {
    clearInterval(this.poller);
    this.poller = null;
  }

  finish() {
    this.live = false;
    this.stopPolling();
    this.root.dataset.live = "false";
    this.root.querySelector(".log-empty").textContent = "No log lines.";
  }

  say(text) {
    this.state.textContent = text;
  }

  /* --- toggles, hash, events -------------------------------------------------------------------- */

  setUpToggles() {
    let saved = {};
    try {
      saved = JSON.parse(localStorage.getItem(PREFERENCES) || "{}");
    } catch {
      saved = {};
    }
    for (const name of ["timestamps", "wrap"]) {
      const box = this.toggles.querySelector(`[name=${name}]`);
      box.checked = Boolean(saved[name]);
      this.root.classList.toggle(`log-${name}`, box.checked);
      box.addEventListener("change", () => {
        this.root.classList.toggle(`log-${name}`, box.checked);
        saved[name] = box.checked;
        localStorage.setItem(PREFERENCES, JSON.stringify(saved));
        this.schedule();
      });
    }
    this.toggles.querySelector("[name=follow]").addEventListener("change", (event) => {
      this.follow = event.target.checked;
      this.schedule();
    });
  }

  setFollow(on) {
    this.follow = on;
    this.toggles.querySelector("[name=follow]").checked = on;
  }

  setUpEvents() {
    this.scroller.addEventListener("scroll", () => {
      const bottom = this.scroller.scrollHeight - this.scroller.clientHeight - this.scroller.scrollTop;
      if (this.scrolling) return this.schedule(); // the viewer's own scrolling says nothing of the user's wish
      if (bottom > ROW * 2) this.setFollow(false);
      else if (bottom <= ROW && this.live) this.setFollow(true);
      this.schedule();
    });
    this.rows.addEventListener("click", (event) => {
      const number = event.target.closest("a.log-number");
      const toggle = event.target.closest("button.group-toggle");
      if (number) {
        event.preventDefault();
        this.select(Number(number.closest(".log-row").dataset.seq), event.shiftKey);
      } else if (toggle) {
        this.groups.toggle(Number(toggle.closest(".log-row").dataset.seq));
        this.schedule();
      }
    });
    window.addEventListener("hashchange", () => this.applyHash(true));
  }

  readHash() {
    const match = HASH.exec(location.hash);
    if (!match) return null;
    const first = Number(match[1]);
    const last = Number(match[2] || match[1]);
    return [Math.min(first, last), Math.max(first, last)];
  }

  applyHash(scroll) {
    this.selection = this.readHash();
    if (this.selection && scroll) {
      this.setFollow(false);
      this.jumpTo(this.selection[0]);
      this.root.scrollIntoView({ block: "start" });
    }
    this.schedule();
  }

  /* Click on a line number: that line; shift-click: the range from the selected line to it. */
  select(seq, extend) {
    const anchor = extend && this.selection ? this.selection[0] : seq;
    const [first, last] = [Math.min(anchor, seq), Math.max(anchor, seq)];
    const hash = first === last ? `#L${first}` : `#L${first}-L${last}`;
    const query = new URLSearchParams(location.search); // the link names its job and attempt
    query.set("job", this.job);
    query.set("attempt", String(this.attempt));
    history.replaceState(history.state, "", `${location.pathname}?${query}${hash}`);
    this.selection = [first, last];
    this.setFollow(false);
    this.schedule();
  }

  /* A line chosen in the errors panel: selected, as a click on its number would, and shown. */
  choose(seq) {
    this.select(seq, false);
    this.jumpTo(seq);
  }

  /* Shows line seq about a third down the view, opening the groups that hide it. */
  jumpTo(seq) {
    this.setFollow(false);
    this.updateGroups();
    if (this.groups.reveal(seq)) this.updateGroups();
    this.spacer.style.height = `${this.groups.rowCount(this.store.total) * ROW}px`;
    this.scrollTo(Math.max(0, this.groups.rowOf(seq) * ROW - this.scroller.clientHeight / 3));
    this.schedule();
  }

  /* Scrolls the lines without the scroll counting as the user's. */
  scrollTo(top) {
    this.scrolling = true;
    this.scroller.scrollTop = top;
    requestAnimationFrame(() => (this.scrolling = false));
  }

  updateGroups() {
    this.groups.setFollowing(this.live && this.follow);
    this.groups.update(this.store.total);
  }

  /* --- rendering -------------------------------------------------------------------------------- */

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    const total = this.store.total;
    this.updateGroups();
    const count = this.groups.rowCount(total);
    this.spacer.style.height = `${count * ROW}px`;
    this.root.style.setProperty("--number-width", `${String(total).length + 1}ch`);
    if (this.follow) this.scrollTo(this.scroller.scrollHeight);
    const top = this.scroller.scrollTop;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(count, Math.ceil((top + this.scroller.clientHeight) / ROW) + OVERSCAN);
    const seqs = [];
    for (let row = first; row < last; row += 1) seqs.push(this.groups.seqAt(row));
    this.store.ensure(seqs);
    this.store.trim(seqs[Math.floor(seqs.length / 2)] || 1);
    const fragment = document.createDocumentFragment();
    for (const seq of seqs) fragment.appendChild(this.renderRow(seq));
    this.rows.replaceChildren(fragment);
    this.rows.style.transform = `translateY(${first * ROW}px)`;
    this.root.querySelector(".log-empty").hidden = total > 0;
  }

  renderRow(seq) {
    const row = element("div", "log-row");
    row.dataset.seq = String(seq);
    const number = element("a", "log-number", String(seq));
    number.href = `#L${seq}`;
    row.appendChild(number);
    const line = this.store.get(seq);
    const time = element("span", "log-time", line ? line.ts.slice(11, 23) : "");
    if (line) time.title = line.ts;
    row.appendChild(time);
    const text = element("span", "log-text");
    row.appendChild(text);
    if (this.selection && seq >= this.selection[0] && seq <= this.selection[1]) row.classList.add("selected");
    if (this.search.isMatch(seq)) row.classList.add("match");
    if (this.search.isCurrent(seq)) row.classList.add("current-match");
    if (!line) {
      row.classList.add("loading");
      return row;
    }
    const marker = parseMarker(line.text);
    const level = problemLevel(line, marker);
    if (level) row.classList.add(`level-${level}`);
    if (marker?.kind === "group") {
      const open = !this.groups.isCollapsed(seq);
      const toggle = element("button", "group-toggle", open ? "▾" : "▸");
      toggle.type = "button";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.setAttribute("aria-label", `${open ? "Collapse" : "Expand"} group`);
      row.classList.add("group-start");
      text.appendChild(toggle);
      this.appendText(text, marker.rest, seq);
    } else if (marker?.kind === "endgroup") {
      row.classList.add("group-end");
    } else if (marker && (level || marker.kind === "notice" || marker.kind === "debug")) {
      text.appendChild(element("span", `marker marker-${marker.kind}`, marker.kind));
      this.appendText(text, marker.rest, seq);
    } else {
      this.appendText(text, line.text, seq);
    }
    return row;
  }

  appendText(parent, text, seq) {
    const marks = this.search.isMatch(seq) ? this.search.marksFor(ansiStrip(text)) : [];
    appendAnsi(parent, text, marks, this.search.isCurrent(seq) ? 0 : -1);
  }
}
