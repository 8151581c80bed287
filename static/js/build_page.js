/* The build page: one websocket for the build, the live status and graph, and the log viewer of the
   selected job, which another job replaces in place. Plain JavaScript modules, no build step. */

import { BuildStatus } from "./build_graph.js";
import { BuildSocket } from "./build_socket.js";
import { JobNavigation } from "./job_navigation.js";
import { LogViewer } from "./log_viewer.js";

const page = document.getElementById("build-page");
if (page) {
  const socket = new BuildSocket(page.dataset.socket);
  const status = new BuildStatus(socket);
  const log = document.getElementById("log");
  const viewer = log ? new LogViewer(log, socket) : null;
  const navigation = viewer ? new JobNavigation(status, viewer) : null;
  socket.connect();
  window.buildPage = { socket, status, viewer, navigation }; // for the browser tests and the console
}
