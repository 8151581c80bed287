/* The build page: one websocket for the build, the live status and graph, and the log viewer of the
   selected job. Plain JavaScript modules, no build step. */

import { BuildStatus } from "./build_graph.js";
import { BuildSocket } from "./build_socket.js";
import { LogViewer } from "./log_viewer.js";

const page = document.getElementById("build-page");
if (page) {
  const socket = new BuildSocket(page.dataset.socket);
  const status = new BuildStatus(socket);
  const log = document.getElementById("log");
  const viewer = log ? new LogViewer(log, socket) : null;
  socket.connect();
  window.buildPage = { socket, status, viewer }; // for the browser tests and the console
}
