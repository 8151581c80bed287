/* Choosing another job on the build page without reloading it. A click on a job of the graph (or on
   an attempt in the job's card) shows that job's log and steps in place and records the choice with
   history.pushState: a reload or a shared link opens the same job, Back and Forward go through the
   jobs chosen. Clicks that ask for a new tab, and jobs the graph does not hold, load the page. */

import { FINISHED } from "./build_graph.js";

export class JobNavigation {
  constructor(status, viewer) {
    this.status = status;
    this.viewer = viewer;
    this.first = viewer.job; // the job shown for the page's URL when it names none
    document.addEventListener("click", (event) => this.onClick(event));
    window.addEventListener("popstate", () => this.show(this.target(location.href), true));
  }

  onClick(event) {
    const link = event.target.closest?.("#build-status a[href^='?job=']");
    const plain = event.button === 0 && !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey);
    if (!link || !plain || event.defaultPrevented) return;
    const target = this.target(link.href);
    if (!target) return;
    event.preventDefault();
    if (this.isShown(target)) return;
    history.pushState(null, "", link.href);
    this.show(target);
  }

  /* {job, attempt, live, name} of the job a build page URL names, from the graph; null when the
     graph has no such job. */
  target(href) {
    const query = new URL(href, location.href).searchParams;
    const job = this.status.job(query.get("job") || this.first);
    if (!job) return null;
    const asked = Number(query.get("attempt"));
    const attempt = asked >= 1 && asked <= job.attempt ? asked : job.attempt;
    const live = attempt === job.attempt && !FINISHED.includes(job.status);
    return { job: job.key, attempt, live, name: job.name };
  }

  isShown({ job, attempt }) {
    return job === this.viewer.job && attempt === this.viewer.attempt;
  }

  show(target, fromHistory = false) {
    if (!target) {
      if (fromHistory) location.reload();
      return;
    }
    if (this.isShown(target)) return; // the same job: only the #L hash changed, the viewer follows it
    this.viewer.open(target);
    this.status.focus(target.job, target.attempt);
  }
}
