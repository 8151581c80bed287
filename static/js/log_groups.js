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
   which are collapsed, and the hidden ranges they make.

   A group starts collapsed, as on hosted CIs. A group not ended yet stays expanded while the view
   follows the running job (its live lines show), and stays so when following stops (the job ended
   inside it, or the user scrolled up to read it). `choices` (start seq -> expanded) are the user's
   toggles and the groups opened to show a line navigated to; they win over the defaults, and the
   viewer keeps them per job attempt for as long as the page is open.

   `extent` says whether every marker is known: "pending" until the outline search answers,
   "complete" after, "partial" when it was cut short. A group whose end is not known may then end
   anywhere: it shows expanded (and, when partial, stays so, lest it fold under the reader). */
export class GroupOutline {
  constructor(choices = new Map()) {
    this.markers = new Map(); // seq -> "group" | "endgroup"
    this.choices = choices;
    this.groups = new Map(); // start seq -> end seq (null while open)
    this.hidden = []; // sorted, merged [from, to] ranges of hidden seqs
    this.dirty = false;
    this.extent = "pending";
    this.following = false;
  }

  note(seq, kind) {
    if ((kind === "group" || kind === "endgroup") && this.markers.get(seq) !== kind) {
      this.markers.set(seq, kind);
      this.dirty = true;
    }
  }

  /* Whether the view follows the running job's last line; when it stops, the groups it showed open
     stay open. */
  setFollowing(on) {
    if (this.following && !on) this.keepOpen((start) => !this.isCollapsed(start));
    this.following = on;
  }

  /* Records as expanded the unended groups that pass `test` (and have no choice yet). */
  keepOpen(test) {
    for (const [start, end] of this.groups) {
      if (end === null && !this.choices.has(start) && test(start)) this.choices.set(start, true);
    }
  }

  isCollapsed(start) {
    const chosen = this.choices.get(start);
    if (chosen !== undefined) return !chosen;
    if (this.groups.get(start) !== null) return true;
    return this.extent === "complete" && !this.following;
  }

  /* Pairs starts with ends (nesting by a stack) and recomputes the hidden ranges. */
  update(total) {
    if (this.dirty) this.pair();
    if (this.extent === "partial") this.keepOpen(() => true);
    const ranges = [...this.groups.keys()]
      .filter((start) => this.isCollapsed(start))
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

  pair() {
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

  isGroupStart(seq) {
    return this.groups.has(seq);
  }

  toggle(seq) {
    this.choices.set(seq, this.isCollapsed(seq));
  }

  /* Opens every group that holds (or, its end unknown, may hold) seq; true when one was collapsed. */
  reveal(seq) {
    let changed = false;
    for (const [start, end] of this.groups) {
      if (seq <= start || (end !== null && seq > end)) continue;
      changed = changed || this.isCollapsed(start);
      this.choices.set(start, true);
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
