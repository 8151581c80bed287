"""ApiClient's keep-alive connections against a small local HTTP/1.1 server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from agent import devops_agent as agent


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.requests.append((self.path, self.client_address[1], self.headers["Authorization"]))
        status = 404 if self.path.endswith("/missing") else 200
        body = json.dumps({"error": {"code": "not_found", "message": "no such job"}} if status == 404
                          else {"ok": True}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.server.drop_after_each

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.requests, httpd.drop_after_each = [], False
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def client_for(server) -> agent.ApiClient:
    return agent.ApiClient(f"http://127.0.0.1:{server.server_address[1]}/ci", "agent-1", "s3", timeout=5)


def test_requests_of_one_thread_share_one_connection(server):
    client = client_for(server)
    assert client.request("POST", "heartbeat", {}) == (200, {"ok": True})
    assert client.call("POST", "jobs/1/steps/next", {"completed": None}) == (200, {"ok": True})
    (first_path, first_port, auth), (_, second_port, _) = server.requests
    assert (first_path, auth) == ("/ci/api/agent/v1/heartbeat", "Agent agent-1:s3")
    assert first_port == second_port


def test_a_connection_the_server_closed_is_replaced(server):
    server.drop_after_each = True
    client = client_for(server)
    for _ in range(3):
        assert client.request("POST", "heartbeat", {}) == (200, {"ok": True})
    assert len({port for _, port, _ in server.requests}) == 3


def test_an_error_status_is_rejected_and_the_next_request_still_works(server):
    client = client_for(server)
    with pytest.raises(agent.RequestRejected) as rejected:
        client.request("POST", "jobs/1/missing", {})
    assert (rejected.value.status, rejected.value.code) == (404, "not_found")
    assert client.request("POST", "heartbeat", {}) == (200, {"ok": True})
