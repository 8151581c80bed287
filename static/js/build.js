/* The build page, live: reload the status section every 2 s until the build finishes, and follow the
   shown job's log every second until it is complete. Plain JavaScript, no build step. */
"use strict";

function followStatus() {
  let section = document.getElementById("build-status");
  if (!section || section.dataset.finished === "true") return;
  const timer = setInterval(async () => {
    try {
      const response = await fetch(section.dataset.url, { credentials: "same-origin" });
      if (!response.ok) return;
      const holder = document.createElement("template");
      holder.innerHTML = (await response.text()).trim();
      const fresh = holder.content.getElementById("build-status");
      if (!fresh) return;
      section.replaceWith(fresh);
      section = fresh;
      if (fresh.dataset.finished === "true") clearInterval(timer);
    } catch (error) {
      console.warn("build status reload failed; trying again", error);
    }
  }, 2000);
}

function appendLogLine(body, line) {
  const row = body.insertRow();
  row.id = `log-${line.seq}`;
  const number = row.insertCell();
  number.className = "line-number";
  number.textContent = line.seq;
  const text = row.insertCell();
  text.className = "line-text";
  const pre = document.createElement("pre");
  pre.textContent = line.text;
  text.appendChild(pre);
}

function followLog() {
  const table = document.getElementById("job-log");
  if (!table || table.dataset.complete === "true") return;
  const body = table.tBodies[0];
  let after = Number(table.dataset.after);
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      const query = new URLSearchParams({ attempt: table.dataset.attempt, after: String(after), limit: "1000" });
      const response = await fetch(`${table.dataset.url}?${query}`, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const page = await response.json();
        page.lines.forEach((line) => appendLogLine(body, line));
        if (page.lines.length) document.getElementById("log-empty")?.remove();
        after = page.next_after;
        if (page.complete) clearInterval(timer);
      }
    } catch (error) {
      console.warn("log fetch failed; trying again", error);
    } finally {
      busy = false;
    }
  }, 1000);
}

followStatus();
followLog();
