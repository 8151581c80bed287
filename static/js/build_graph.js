/* The live part of the build page: the header, the stage/job graph and the focused job's steps
   (#build-status, rendered by the server). It is fetched again on every `build.changed` message and,
   while the websocket is down, every 2 s until the build finishes. `needs` arrows are SVG paths
   drawn between the job groups' boxes after every refresh. `focus` shows another job's steps. */

const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 2000;
const SAFETY_POLL_MS = 10000; // while the socket is up: messages are at most once
export const FINISHED = ["succeeded", "failed", "canceled", "skipped", "timed_out"];

function svg(name, attributes) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

/* Draws an arrow from each needed job group to the group that needs it (same stage). */
export function drawNeeds(graph) {
  const canvas = graph?.querySelector("svg.needs-arrows");
  if (!canvas) return;
  const scroller = canvas.parentElement; // .stages: the arrows scroll with the columns
  const origin = scroller.getBoundingClientRect();
  canvas.setAttribute("width", String(scroller.scrollWidth));
  canvas.setAttribute("height", String(scroller.scrollHeight));
  const defs = svg("defs", {});
  const head = svg("marker", {
    id: "needs-head", viewBox: "0 0 8 8", refX: "7", refY: "4", markerWidth: "7", markerHeight: "7", orient: "auto",
  });
  head.appendChild(svg("path", { d: "M0,0 L8,4 L0,8 z", class: "needs-head" }));
  defs.appendChild(head);
  const paths = [defs];
  const dx = scroller.scrollLeft - origin.left;
  const dy = scroller.scrollTop - origin.top;
  for (const stage of graph.querySelectorAll(".stage")) {
    for (const group of stage.querySelectorAll(".job-group[data-needs]")) {
      for (const need of group.dataset.needs.split(" ").filter(Boolean)) {
        const source = stage.querySelector(`.job-group[data-job-id="${CSS.escape(need)}"]`);
        if (!source) continue;
        const from = source.getBoundingClientRect();
        const to = group.getBoundingClientRect();
        const x1 = from.right + dx;
        const y1 = from.top + from.height / 2 + dy;
        const x2 = to.left + dx - 2;
        const y2 = to.top + to.height / 2 + dy;
        const bend = Math.max(12, (x2 - x1) / 2);
        paths.push(svg("path", {
          d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`,
          class: "needs-arrow",
          "marker-end": "url(#needs-head)",
          "data-from": need,
          "data-to": group.dataset.jobId,
        }));
      }
    }
  }
  canvas.replaceChildren(...paths);
}

/* A review or override form the user has started to fill in survives a refresh of the status. */
function keepEditedForms(current, fresh) {
  for (const form of current.querySelectorAll("form[data-keep][data-edited]")) {
    const twin = fresh.querySelector(`form[data-keep="${form.dataset.keep}"]`);
    if (twin) twin.replaceWith(form);
  }
}

document.addEventListener("input", (event) => {
  event.target.closest?.("form[data-keep]")?.setAttribute("data-edited", "");
});

export class BuildStatus {
  constructor(socket) {
    this.section = document.getElementById("build-status");
    this.url = this.section?.dataset.url;
    this.timer = null;
    this.pending = null;
    this.listeners = [];
    if (!this.section) return;
    socket.on("build.changed", () => this.refreshSoon());
    socket.on("state", (up) => {
      this.startPolling(up ? SAFETY_POLL_MS : POLL_MS);
      if (up) this.refreshSoon();
    });
    this.startPolling(POLL_MS);
    window.addEventListener("resize", () => this.draw());
    this.draw();
  }

  get finished() {
    return this.section.dataset.finished === "true";
  }

  onRefresh(listener) {
    this.listeners.push(listener);
  }

  /* Shows the steps of another job attempt and marks the job in the graph at once. */
  focus(job, attempt) {
    const url = new URL(this.url, location.href);
    url.search = new URLSearchParams({ job, attempt: String(attempt) });
    this.url = `${url.pathname}${url.search}`;
    for (const item of this.section.querySelectorAll("li.job")) {
      item.classList.toggle("selected", item.dataset.key === job);
    }
    this.refresh();
  }

  /* The graph's facts about a job: {key, name, status, attempt (its current one)}, or null. */
  job(key) {
    const item = [...this.section.querySelectorAll("li.job")].find((li) => li.dataset.key === key);
    if (!item) return null;
    const { status, attempt } = item.dataset;
    return { key, name: item.querySelector(".job-name").textContent, status, attempt: Number(attempt) || 1 };
  }

  draw() {
    drawNeeds(document.getElementById("build-graph"));
  }

  startPolling(period) {
    this.stopPolling();
    if (!this.finished) this.timer = setInterval(() => this.refresh(), period);
  }

  stopPolling() {
    clearInterval(this.timer);
    this.timer = null;
  }

  /* Several messages in a burst make one fetch. */
  refreshSoon() {
    if (this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.refresh();
    }, 150);
  }

  async refresh() {
    const url = this.url;
    try {
      const response = await fetch(url, { credentials: "same-origin" });
      if (!response.ok) return;
      const holder = document.createElement("template");
      holder.innerHTML = (await response.text()).trim(); // our own server-rendered, escaped partial
      if (url !== this.url) return; // another job was focused meanwhile
      const fresh = holder.content.getElementById("build-status");
      if (!fresh) return;
      const scroll = this.section.querySelector(".stages")?.scrollLeft || 0;
      keepEditedForms(this.section, fresh);
      this.section.replaceWith(fresh);
      this.section = fresh;
      const stages = fresh.querySelector(".stages");
      if (stages) stages.scrollLeft = scroll;
      this.draw();
      if (this.finished) this.stopPolling();
      for (const listener of this.listeners) listener(fresh);
    } catch (error) {
      console.warn("build status reload failed; trying again", error);
    }
  }
}
