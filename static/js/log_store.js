/* The lines of one job attempt as the log viewer knows them: a bounded cache by line number (seq),
   filled page by page from the REST endpoint (`logs/?after=&limit=`) on demand and by live batches
   from the websocket. The database is the record: a line missing here is fetched again. */

const PAGE = 500;
const RETRY_MS = 1500;

export class LogStore {
  constructor({ url, attempt, maxLines = 20000, onChange, onLines }) {
    this.url = url;
    this.attempt = attempt;
    this.maxLines = maxLines;
    this.onChange = onChange;
    this.onLines = onLines;
    this.lines = new Map();
    this.total = 0;
    this.complete = false;
    this.pages = new Map(); // page index -> {at: fetch time, full: every line of the page is known}
    this.inflight = new Set();
    this.tail = null; // the walk fetchTail is doing
  }

  async fetchPage(after, limit) {
    const query = new URLSearchParams({ attempt: this.attempt, after: String(after), limit: String(limit) });
    const response = await fetch(`${this.url}?${query}`, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (!response.ok) throw new Error(`log page: HTTP ${response.status}`);
    const page = await response.json();
    this.complete = Boolean(page.complete);
    this.total = Math.max(this.total, page.total_lines || 0, page.next_after || 0);
    this.add(page.lines);
    return page;
  }

  /* Fetches the lines after the last known one, `limit` at a time, up to the last stored one; one
     such walk at a time. Resolves to whether the log is complete (the job attempt is over). */
  fetchTail(limit) {
    this.tail ??= (async () => {
      for (;;) {
        const page = await this.fetchPage(this.total, limit);
        if (page.lines.length < limit) return Boolean(page.complete);
      }
    })().finally(() => (this.tail = null));
    return this.tail;
  }

  /* Stores lines (duplicates by seq are harmless); returns the ones that were new. */
  add(lines) {
    const fresh = [];
    for (const line of lines) {
      if (!this.lines.has(line.seq)) fresh.push(line);
      this.lines.set(line.seq, line);
      if (line.seq > this.total) this.total = line.seq;
    }
    if (fresh.length && this.onLines) this.onLines(fresh);
    return fresh;
  }

  get(seq) {
    return this.lines.get(seq);
  }

  /* Fetches the pages holding any missing line of seqs; calls onChange when some arrive. */
  ensure(seqs) {
    const wanted = new Set();
    for (const seq of seqs) {
      if (seq >= 1 && seq <= this.total && !this.lines.has(seq)) wanted.add(Math.floor((seq - 1) / PAGE));
    }
    const now = Date.now();
    for (const index of wanted) {
      const known = this.pages.get(index);
      if (this.inflight.has(index) || (known && (known.full || now - known.at < RETRY_MS))) continue;
      this.inflight.add(index);
      this.fetchPage(index * PAGE, PAGE)
        .then((page) => {
          const last = page.lines.length ? page.lines[page.lines.length - 1].seq : 0;
          this.pages.set(index, { at: Date.now(), full: last >= (index + 1) * PAGE || page.complete });
        })
        .catch((error) => {
          console.warn(error);
          this.pages.set(index, { at: Date.now(), full: false });
        })
        .finally(() => {
          this.inflight.delete(index);
          this.onChange();
        });
    }
  }

  /* Keeps the cache bounded: drops the lines farthest from the seq being looked at. */
  trim(center) {
    if (this.lines.size <= this.maxLines * 1.2) return;
    const half = this.maxLines / 2;
    for (const seq of this.lines.keys()) {
      if (Math.abs(seq - center) > half) this.lines.delete(seq);
    }
    for (const index of this.pages.keys()) {
      const middle = index * PAGE + PAGE / 2;
      if (Math.abs(middle - center) > half) this.pages.delete(index);
    }
  }
}

/* Lines of the whole job that match q (substring, or a regex when regex is true), at most 1,000
   after line `after`; `truncated` says more follow. */
export async function logSearch(url, { q, regex = false, attempt, after = 0 }) {
  const query = new URLSearchParams({
    q,
    regex: regex ? "1" : "0",
    attempt: String(attempt),
    after: String(after),
  });
  const response = await fetch(`${url}?${query}`, {
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const message = body.error?.message || body.detail || `HTTP ${response.status}`;
    throw new Error(message);
  }
  return body;
}

/* Every match of a search, a page of 1,000 at a time, up to `pages` pages; `truncated` says some
   were left. */
export async function logSearchAll(url, { q, regex = false, attempt, pages }) {
  const matches = [];
  for (let page = 0; page < pages; page += 1) {
    const after = matches.length ? matches[matches.length - 1].seq : 0;
    const found = await logSearch(url, { q, regex, attempt, after });
    matches.push(...found.matches);
    if (!found.truncated || !found.matches.length) return { matches, truncated: false };
  }
  return { matches, truncated: true };
}
