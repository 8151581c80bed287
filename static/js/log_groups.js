/* Workflow markers in log lines (`::group::name`, `##[group]name`, `::endgroup::`, `##[endgroup]`,
   `::error::`, `##[warning]` ...) and the rows of a log with some groups collapsed: row index <->
   line number (seq) when the lines of collapsed groups are hidden. */

const MARKER = /^\s*(?:::(group|endgroup|error|warning|notice|debug)(?:\s[^:]*)?::|##\[(group|endgroup|error|warning|notice|debug)[^\]]*\])/;

/* {kind, rest} for a marker line (kind: group, endgroup, error, warning, notice, debug), else null. */
export function parseMarker(text) {
  const match = MARKER.exec(text);
  if (!match) return null;
  return { kind: match[1] || match[2], rest: text.slice(match[0].length) };
}

export const OUTLINE_PATTERN = "::(end)?group::|##\\[(end)?group\\]";
export const PROBLEM_PATTERN = "::(error|warning)( [^:]*)?::|##\\[(error|warning)";

/* The groups of a log: starts and ends found so far (from the outline search and from loaded lines),
   which are collapsed, and the hidden ranges they make. */
export class GroupOutline {
  constructor() {
    this.markers = new Map(); // seq -> "group" | "endgroup"
    this.collapsed = new Set(); // seqs of collapsed group starts
    this.groups = new Map(); // start seq -> end seq (null while open)
    this.hidden = []; // sorted, merged [from, to] ranges of hidden seqs
    this.dirty = false;
  }

  note(seq, kind) {
    if ((kind === "group" || kind === "endgroup") && this.markers.get(seq) !== kind) {
      this.markers.set(seq, kind);
      this.dirty = true;
    }
  }

  /* Pairs starts with ends (nesting by a stack) and recomputes the hidden ranges. */
  update(total) {
    if (this.dirty) {
      this.groups = new Map();
      const stack = [];
      for (const seq of [...this.markers.keys()].sort((a, b) => a - b)) {
        if (this.markers.get(seq) === "group") {
          stack.push(seq);
          this.groups.set(seq, null);
        } else if (stack.length) {
          this.groups.set(stack.pop(), seq);
        }
      }
      this.dirty = false;
    }
    const ranges = [...this.collapsed]
      .filter((start) => this.groups.has(start))
      .map((start) => [start + 1, this.groups.get(start) ?? total])
      .filter(([from, to]) => to >= from)
      .sort((a, b) => a[0] - b[0]);
    this.hidden = [];
    for (const [from, to] of ranges) {
      const last = this.hidden[this.hidden.length - 1];
      if (last && from <= last[1] + 1) last[1] = Math.max(last[1], to);
      else this.hidden.push([from, to]);
    }
  }

  isGroupStart(seq) {
    return this.groups.has(seq);
  }

  toggle(seq) {
    if (this.collapsed.has(seq)) this.collapsed.delete(seq);
    else this.collapsed.add(seq);
  }

  /* Expands every collapsed group hiding seq; true when one was. */
  reveal(seq) {
    let changed = false;
    for (const start of [...this.collapsed]) {
      const end = this.groups.get(start);
      if (seq > start && (end === null || end === undefined || seq <= end)) {
        this.collapsed.delete(start);
        changed = true;
      }
    }
    return changed;
  }

  rowCount(total) {
    let count = total;
    for (const [from, to] of this.hidden) count -= Math.max(0, Math.min(to, total) - from + 1);
    return Math.max(0, count);
  }

  seqAt(row) {
    let seq = row + 1;
    for (const [from, to] of this.hidden) {
      if (seq < from) break;
      seq += to - from + 1;
    }
    return seq;
  }

  rowOf(seq) {
    let row = seq - 1;
    for (const [from, to] of this.hidden) {
      if (seq < from) break;
      if (seq <= to) return this.rowOf(from - 1);
      row -= to - from + 1;
    }
    return row;
  }
}
