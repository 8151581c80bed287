/* The errors and warnings panel beside the log: the error/warning lines of the job (from a search of
   the whole job and from the lines loaded since), each a link to its line. Choosing one calls
   `onChoose(seq)`; the viewer shows the line, opening the groups that hide it. */

import { ansiStrip } from "./ansi.js";
import { element } from "./dom.js";

const PROBLEMS_SHOWN = 500;

/* "error", "warning" or "" for a line and its parsed marker. */
export function problemLevel(line, marker) {
  if (line.level === "error" || line.level === "warning") return line.level;
  return marker && (marker.kind === "error" || marker.kind === "warning") ? marker.kind : "";
}

export class ProblemList {
  constructor(panel, onChoose) {
    this.panel = panel;
    this.problems = new Map(); // seq -> {level, text}
    panel.querySelector("ol").addEventListener("click", (event) => {
      const link = event.target.closest("a[data-seq]");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      onChoose(Number(link.dataset.seq));
    });
  }

  reset() {
    this.problems = new Map();
    this.render();
  }

  /* Records the line when it is an error or a warning; true when it was new. */
  note(line, marker) {
    const level = problemLevel(line, marker);
    if (!level || this.problems.has(line.seq)) return false;
    this.problems.set(line.seq, { level, text: ansiStrip(marker && level === marker.kind ? marker.rest : line.text) });
    return true;
  }

  render() {
    const seqs = [...this.problems.keys()].sort((a, b) => a - b);
    this.panel.hidden = seqs.length === 0;
    const errors = seqs.filter((seq) => this.problems.get(seq).level === "error").length;
    this.panel.querySelector(".log-problems-count").textContent = `${errors} errors, ${seqs.length - errors} warnings`;
    const items = seqs.slice(0, PROBLEMS_SHOWN).map((seq) => {
      const { level, text } = this.problems.get(seq);
      const item = element("li", `problem-${level}`);
      const link = element("a", "", `L${seq}`);
      link.href = `#L${seq}`;
      link.dataset.seq = String(seq);
      item.append(link, " ", element("span", "", text.slice(0, 200)));
      return item;
    });
    this.panel.querySelector("ol").replaceChildren(...items);
  }
}
