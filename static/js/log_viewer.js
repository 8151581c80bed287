/* The log viewer of the build page: one job attempt's lines in a virtual scroll area (only the visible
   rows exist in the DOM; every row is ROW px high while wrap is off), pages fetched on demand, live
   lines from the websocket (REST polling while it is down), line-number permalinks (#L120,
   #L120-L140), collapsible groups, error/warning lines listed, timestamps, wrap and follow toggles,
   and search. Log text reaches the page only through textContent (see ansi.js). */

import { ansiStrip, appendAnsi } from "./ansi.js";
import { GroupOutline, OUTLINE_PATTERN, PROBLEM_PATTERN, parseMarker } from "./log_groups.js";
import { LogSearchBox } from "./log_search.js";
import { LogStore, logSearch } from "./log_store.js";

const ROW = 20; // px: .log-row's height in app.css
const OVERSCAN = 20;
const POLL_MS = 1500;
const SAFETY_POLL_MS = 10000; // while the socket is up: a lost last batch still shows up
const LIVE_BATCH = 1000;
const PROBLEMS_SHOWN = 500;
const HASH = /^#L(\d+)(?:-L(\d+))?$/;
const PREFERENCES = "devops.log.preferences";

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function problemLevel(line, marker) {
  if (line.level === "error" || line.level === "warning") return line.level;
  return marker && (marker.kind === "error" || marker.kind === "warning") ? marker.kind : "";
}

export class LogViewer {
  constructor(root, socket) {
    this.root = root;
    this.socket = socket;
    this.job = root.dataset.job;
    this.attempt = Number(root.dataset.attempt);
    this.live = root.dataset.live === "true";
    this.searchUrl = root.dataset.searchUrl;
    this.scroller = root.querySelector(".log-scroll");
    this.spacer = root.querySelector(".log-spacer");
    this.rows = root.querySelector(".log-rows");
    this.state = root.querySelector(".log-state");
    this.store = new LogStore({
      url: root.dataset.linesUrl,
      attempt: this.attempt,
      onChange: () => this.schedule(),
      onLines: (lines) => this.note(lines),
    });
    this.groups = new GroupOutline();
    this.problems = new Map(); // seq -> {level, text}
    this.selection = null; // [first, last] seq of the permalink
    this.search = new LogSearchBox(this, root.querySelector("form.log-search"));
    this.frame = 0;
    this.toggles = root.querySelector(".log-toggles");
    this.setUpToggles();
    this.setUpEvents();
    this.start();
  }

  /* --- data ------------------------------------------------------------------------------------ */

  async start() {
    const wanted = this.readHash();
    this.follow = this.live && !wanted;
    this.toggles.querySelector("[name=follow]").checked = this.follow;
    try {
      await this.store.fetchPage(0, 500);
      if (this.follow && this.store.total > 500) {
        await this.store.fetchPage(Math.max(500, this.store.total - 500), 500);
      }
      if (this.store.complete) this.finish();
    } catch (error) {
      this.say(`The log could not be loaded: ${error.message}`);
    }
    this.loadOutline();
    this.socket.on("log.appended", (message) => this.onLive(message));
    this.socket.on("build.changed", (message) => this.onBuildChanged(message));
    this.socket.on("state", (up) => this.startPolling(up ? SAFETY_POLL_MS : POLL_MS));
    if (this.live) {
      this.socket.follow(this.job, this.attempt, () => this.store.total);
      this.startPolling(this.socket.open ? SAFETY_POLL_MS : POLL_MS);
    }
    if (wanted) this.applyHash(true);
    this.schedule();
  }

  /* Group starts/ends and error/warning lines of the whole job, from two searches. */
  async loadOutline() {
    const ask = (q) => logSearch(this.searchUrl, { q, regex: true, attempt: this.attempt }).catch(() => null);
    const [outline, problems] = await Promise.all([ask(OUTLINE_PATTERN), ask(PROBLEM_PATTERN)]);
    for (const match of outline?.matches || []) this.note([{ seq: match.seq, text: match.text }], false);
    for (const match of problems?.matches || []) this.note([{ seq: match.seq, text: match.text }], true);
    this.renderProblems();
    this.schedule();
  }

  /* Records what lines say about groups and problems. */
  note(lines, withProblems = true) {
    let problems = false;
    for (const line of lines) {
      const marker = parseMarker(line.text);
      if (marker) this.groups.note(line.seq, marker.kind);
      const level = problemLevel(line, marker);
      if (withProblems && level && !this.problems.has(line.seq)) {
        this.problems.set(line.seq, { level, text: ansiStrip(marker && level === marker.kind ? marker.rest : line.text) });
        problems = true;
      }
    }
    if (problems) this.renderProblems();
  }

  onLive(message) {
    if (message.job !== this.job || (message.attempt && message.attempt !== this.attempt)) return;
    this.store.add(message.lines || []);
    this.schedule();
  }

  onBuildChanged(message) {
    const mine = (message.jobs || []).find((job) => job.key === this.job);
    const over = ["succeeded", "failed", "canceled", "skipped", "timed_out"];
    if (this.live && mine && over.includes(mine.status)) this.catchUp();
  }

  /* The lines after the last one the page has, from REST: the record, whatever the socket missed. */
  async catchUp() {
    if (this.catching) return;
    this.catching = true;
    try {
      for (;;) {
        const page = await this.store.fetchPage(this.store.total, LIVE_BATCH);
        if (page.complete) this.finish();
        if (page.lines.length < LIVE_BATCH) break;
      }
    } catch (error) {
      console.warn("log catch-up failed; trying again", error);
    } finally {
      this.catching = false;
      this.schedule();
    }
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
    if (this.follow === on) return;
    this.follow = on;
    this.toggles.querySelector("[name=follow]").checked = on;
  }

  setUpEvents() {
    this.scroller.addEventListener("scroll", () => {
      const bottom = this.scroller.scrollHeight - this.scroller.clientHeight - this.scroller.scrollTop;
      if (bottom > ROW * 2 && !this.scrolling) this.setFollow(false);
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
    history.replaceState(null, "", `${location.pathname}?${query}${hash}`);
    this.selection = [first, last];
    this.setFollow(false);
    this.schedule();
  }

  /* Shows line seq about a third down the view, opening the groups that hide it. */
  jumpTo(seq) {
    this.groups.update(this.store.total);
    if (this.groups.reveal(seq)) this.groups.update(this.store.total);
    this.setFollow(false);
    this.spacer.style.height = `${this.groups.rowCount(this.store.total) * ROW}px`;
    this.scrolling = true;
    this.scroller.scrollTop = Math.max(0, this.groups.rowOf(seq) * ROW - this.scroller.clientHeight / 3);
    requestAnimationFrame(() => (this.scrolling = false));
    this.schedule();
  }

  /* --- rendering -------------------------------------------------------------------------------- */

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    const total = this.store.total;
    this.groups.update(total);
    const count = this.groups.rowCount(total);
    this.spacer.style.height = `${count * ROW}px`;
    this.root.style.setProperty("--number-width", `${String(total).length + 1}ch`);
    if (this.follow) {
      this.scrolling = true;
      this.scroller.scrollTop = this.scroller.scrollHeight;
      requestAnimationFrame(() => (this.scrolling = false));
    }
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
      const open = !this.groups.collapsed.has(seq);
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

  renderProblems() {
    const panel = this.root.querySelector(".log-problems");
    const list = panel.querySelector("ol");
    const seqs = [...this.problems.keys()].sort((a, b) => a - b);
    panel.hidden = seqs.length === 0;
    const errors = seqs.filter((seq) => this.problems.get(seq).level === "error").length;
    panel.querySelector(".log-problems-count").textContent = `${errors} errors, ${seqs.length - errors} warnings`;
    const items = seqs.slice(0, PROBLEMS_SHOWN).map((seq) => {
      const { level, text } = this.problems.get(seq);
      const item = element("li", `problem-${level}`);
      const link = element("a", "", `L${seq}`);
      link.href = `#L${seq}`;
      item.append(link, " ", element("span", "", text.slice(0, 200)));
      return item;
    });
    list.replaceChildren(...items);
  }
}
