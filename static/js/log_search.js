/* Search within a job's log: the whole job is searched by the server (`logs/search/?q=&regex=`), the
   matching line numbers are stepped through with next/previous (Enter, Shift+Enter) and the matched
   text is marked in the rows the viewer shows. */

import { logSearch } from "./log_store.js";

export class LogSearchBox {
  constructor(viewer, form) {
    this.viewer = viewer;
    this.form = form;
    this.input = form.elements.q;
    this.regexBox = form.elements.regex;
    this.count = form.querySelector(".log-search-count");
    this.matches = [];
    this.matchSet = new Set();
    this.index = -1;
    this.pattern = null;
    this.asked = "";
    this.generation = 0; // bumped by clear(): an answer to an older question is dropped
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.step(1);
    });
    this.input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && event.shiftKey) {
        event.preventDefault();
        this.step(-1);
      } else if (event.key === "Escape") {
        this.input.value = "";
        this.clear();
      }
    });
    this.input.addEventListener("input", () => {
      if (!this.input.value) this.clear();
    });
    form.querySelector("[data-search=next]").addEventListener("click", () => this.step(1));
    form.querySelector("[data-search=previous]").addEventListener("click", () => this.step(-1));
  }

  /* Empties the box and forgets the matches (the viewer shows another job). */
  reset() {
    this.input.value = "";
    this.clear();
  }

  clear() {
    this.generation += 1;
    this.matches = [];
    this.matchSet = new Set();
    this.index = -1;
    this.pattern = null;
    this.asked = "";
    this.count.textContent = "";
    this.viewer.schedule();
  }

  key() {
    return `${this.regexBox.checked ? "re" : "text"}:${this.input.value}`;
  }

  /* Next (+1) or previous (-1) match; searches first when the query changed. */
  async step(direction) {
    const q = this.input.value;
    if (!q) return this.clear();
    if (this.key() !== this.asked && !(await this.run(q))) return;
    if (!this.matches.length) return;
    const size = this.matches.length;
    this.index = this.index < 0 ? (direction > 0 ? 0 : size - 1) : (this.index + direction + size) % size;
    this.show();
    this.viewer.jumpTo(this.matches[this.index]);
  }

  /* Searches the job; false when the answer came too late to be used. */
  async run(q) {
    const regex = this.regexBox.checked;
    const generation = ++this.generation;
    this.asked = this.key();
    this.count.textContent = "Searching…";
    try {
      const found = await logSearch(this.viewer.searchUrl, { q, regex, attempt: this.viewer.attempt });
      if (generation !== this.generation) return false;
      this.matches = [...new Set(found.matches.map((match) => match.seq))].sort((a, b) => a - b);
      this.truncated = Boolean(found.truncated);
      this.pattern = this.compile(q, regex);
    } catch (error) {
      if (generation !== this.generation) return false;
      this.matches = [];
      this.pattern = null;
      this.count.textContent = error.message;
      this.asked = "";
      return true;
    }
    this.matchSet = new Set(this.matches);
    this.index = -1;
    this.show();
    return true;
  }

  compile(q, regex) {
    try {
      return new RegExp(regex ? q : q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "gi");
    } catch {
      return null; // a pattern only the server understands: lines are marked, not the text
    }
  }

  show() {
    const size = this.matches.length;
    if (!size) this.count.textContent = "No matches";
    else this.count.textContent = `${this.index + 1 || "–"} / ${size}${this.truncated ? "+" : ""}`;
    this.viewer.schedule();
  }

  isMatch(seq) {
    return this.matchSet.has(seq);
  }

  isCurrent(seq) {
    return this.index >= 0 && this.matches[this.index] === seq;
  }

  /* [start, end) ranges of the query in the plain text of a line. */
  marksFor(plain) {
    if (!this.pattern) return [];
    const ranges = [];
    this.pattern.lastIndex = 0;
    for (let match = this.pattern.exec(plain); match; match = this.pattern.exec(plain)) {
      if (!match[0].length) {
        this.pattern.lastIndex += 1;
        continue;
      }
      ranges.push([match.index, match.index + match[0].length]);
    }
    return ranges;
  }
}
