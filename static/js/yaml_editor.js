/* The pipeline form's YAML box with line numbers and validation as you type: the text is sent to
   POST /api/v1/pipelines/validate/ (debounced) and each problem is shown at its line: the number in
   the gutter turns red, the line is highlighted and the message sits beside it; a list under the box
   moves the caret to a problem's line. The server checks again on save. */

import { element } from "./dom.js";

const DEBOUNCE_MS = 400;

class YamlEditor {
  constructor(textarea, url) {
    this.textarea = textarea;
    this.url = url;
    this.problems = [];
    this.asked = 0;
    this.csrf = textarea.form.elements.csrfmiddlewaretoken?.value || "";
    this.build();
    textarea.addEventListener("input", () => {
      this.paint();
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.validate(), DEBOUNCE_MS);
    });
    textarea.addEventListener("scroll", () => this.place());
    this.paint();
    this.validate();
  }

  build() {
    const textarea = this.textarea;
    textarea.wrap = "off";
    this.editor = element("div", "yaml-editor");
    this.gutter = element("div", "yaml-gutter");
    this.gutter.setAttribute("aria-hidden", "true");
    this.numbers = element("div", "yaml-numbers");
    this.gutter.appendChild(this.numbers);
    this.area = element("div", "yaml-area");
    this.backdrop = element("div", "yaml-backdrop");
    this.backdrop.setAttribute("aria-hidden", "true");
    this.notes = element("div", "yaml-notes");
    textarea.replaceWith(this.editor);
    this.area.append(this.backdrop, textarea, this.notes);
    this.editor.append(this.gutter, this.area);
    this.summary = element("div", "yaml-check");
    this.summary.setAttribute("aria-live", "polite");
    this.editor.after(this.summary);
    this.lineHeight = parseFloat(getComputedStyle(textarea).lineHeight) || 19;
    this.padding = parseFloat(getComputedStyle(textarea).paddingTop) || 0;
  }

  /* Line numbers, red where a problem is. */
  paint() {
    const count = this.textarea.value.split("\n").length;
    const bad = new Set(this.problems.map((problem) => problem.line));
    if (this.numbers.childElementCount !== count || this.painted !== [...bad].join()) {
      const rows = [];
      for (let line = 1; line <= count; line += 1) {
        rows.push(element("div", bad.has(line) ? "problem" : "", String(line)));
      }
      this.numbers.replaceChildren(...rows);
      this.painted = [...bad].join();
    }
    this.place();
  }

  /* Keeps the gutter, highlights and notes level with the text as it scrolls. */
  place() {
    const shift = this.padding - this.textarea.scrollTop;
    this.numbers.style.transform = `translateY(${shift}px)`;
    for (const layer of [this.backdrop, this.notes]) {
      for (const node of layer.children) {
        node.style.top = `${shift + (Number(node.dataset.line) - 1) * this.lineHeight}px`;
      }
    }
  }

  async validate() {
    const asked = ++this.asked;
    let body;
    try {
      const response = await fetch(this.url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": this.csrf },
        body: JSON.stringify({ yaml: this.textarea.value }),
      });
      body = await response.json();
      if (!response.ok) throw new Error(body.error?.message || `HTTP ${response.status}`);
    } catch (error) {
      if (asked === this.asked) this.summary.textContent = `Could not check the YAML: ${error.message}`;
      return;
    }
    if (asked !== this.asked) return; // a newer check is on its way
    this.show(body.problems || []);
  }

  show(problems) {
    this.problems = problems;
    const marks = [];
    const notes = [];
    const byLine = new Map();
    for (const problem of problems) {
      if (!problem.line) continue;
      if (!byLine.has(problem.line)) byLine.set(problem.line, []);
      byLine.get(problem.line).push(problem);
    }
    for (const [line, found] of byLine) {
      const mark = element("div", "yaml-mark");
      mark.dataset.line = String(line);
      marks.push(mark);
      const note = element("div", "yaml-note", found.map((problem) => `col ${problem.column}: ${problem.message}`).join(" · "));
      note.dataset.line = String(line);
      note.title = note.textContent;
      notes.push(note);
    }
    this.backdrop.replaceChildren(...marks);
    this.notes.replaceChildren(...notes);
    this.paint();
    this.summary.replaceChildren();
    this.summary.className = `yaml-check ${problems.length ? "has-problems" : "valid"}`;
    if (!problems.length) {
      this.summary.textContent = "✓ The YAML is valid.";
      return;
    }
    this.summary.appendChild(element("strong", "", `${problems.length} problem${problems.length === 1 ? "" : "s"}`));
    const list = element("ul", "yaml-problem-list");
    for (const problem of problems) {
      const item = element("li");
      const link = element("a", "", `${problem.line}:${problem.column}`);
      link.href = "#";
      link.addEventListener("click", (event) => {
        event.preventDefault();
        this.goTo(problem.line);
      });
      item.append(link, ` ${problem.message}`);
      list.appendChild(item);
    }
    this.summary.appendChild(list);
  }

  goTo(line) {
    const lines = this.textarea.value.split("\n");
    const offset = lines.slice(0, Math.max(0, line - 1)).reduce((sum, text) => sum + text.length + 1, 0);
    this.textarea.focus();
    this.textarea.setSelectionRange(offset, offset + (lines[line - 1] || "").length);
    this.textarea.scrollTop = Math.max(0, (line - 3) * this.lineHeight);
    this.place();
  }
}

const form = document.querySelector("form[data-validate-url]");
const box = form?.elements.yaml;
if (box) window.yamlEditor = new YamlEditor(box, form.dataset.validateUrl);
