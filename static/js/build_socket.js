/* The build page's one websocket (ws/projects/{slug}/pipelines/{pipeline}/builds/{number}/): receives
   `build.changed` and `log.appended` messages, follows one job's log (`subscribe` with the last seq
   the page has) and reconnects with backoff, resuming where the page is. Listeners are told when the
   socket goes up or down so they can fall back to polling. A `log.appended` message carries a chunk;
   listeners get its `lines` decoded. */

import { chunkLines } from "./log_chunk.js";

const MAX_BACKOFF_MS = 10000;

export class BuildSocket {
  constructor(path) {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    this.url = `${scheme}//${location.host}${path}`;
    this.listeners = { "build.changed": [], "log.appended": [], state: [] };
    this.subscription = null; // {job, after: () => seq}
    this.backoff = 500;
    this.open = false;
    this.closed = false;
    this.received = {}; // message counts by type
    this.connections = 0;
  }

  on(type, listener) {
    this.listeners[type].push(listener);
    return this;
  }

  emit(type, payload) {
    for (const listener of this.listeners[type] || []) listener(payload);
  }

  connect() {
    if (this.closed || !("WebSocket" in window)) return this;
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.open = true;
      this.connections += 1;
      this.backoff = 500;
      this.emit("state", true);
      this.sendSubscribe();
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        return;
      }
      this.received[message.type] = (this.received[message.type] || 0) + 1;
      if (message.type === "log.appended") message.lines = chunkLines(message);
      this.emit(message.type, message);
    });
    socket.addEventListener("close", (event) => {
      const wasOpen = this.open;
      this.open = false;
      if (wasOpen) this.emit("state", false);
      if (this.closed || event.code === 4401 || event.code === 4403) return;
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    });
    return this;
  }

  /* Follow a job's log; `after` is asked again on every (re)connect so the server resumes there. */
  follow(job, attempt, after) {
    this.subscription = { job, attempt, after };
    this.sendSubscribe();
  }

  sendSubscribe() {
    if (!this.open || !this.subscription) return;
    const { job, attempt, after } = this.subscription;
    this.socket.send(JSON.stringify({ type: "subscribe", job, attempt, after: after() }));
  }

  /* For tests and the page's unload: stop for good. */
  close() {
    this.closed = true;
    this.socket?.close();
  }

  /* Drop the connection and reconnect (what a network blip does). */
  drop() {
    this.socket?.close();
  }
}
