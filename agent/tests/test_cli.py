"""Configuration, command line, HTTP error mapping and self-upgrade, without a server."""

import ast
import hashlib
import json
import os
import socket
import stat
import subprocess
import sys

import pytest

from agent import devops_agent as agent

AGENT_FILE = agent.__file__


def test_config_is_written_for_its_owner_only(tmp_path):
    path = str(tmp_path / "home" / "agent.json")
    agent.save_config(path, {"url": "https://ci", "agent_id": "a1", "secret": "s3"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o700
    assert agent.load_config(path)["secret"] == "s3"
    agent.save_config(path, {"url": "https://ci", "agent_id": "a1", "secret": "rotated"})
    assert agent.load_config(path)["secret"] == "rotated"
    assert os.listdir(os.path.dirname(path)) == ["agent.json"]


def test_an_incomplete_config_is_refused(tmp_path):
    path = tmp_path / "agent.json"
    path.write_text(json.dumps({"url": "https://ci"}))
    with pytest.raises(ValueError, match="agent_id, secret"):
        agent.load_config(str(path))


def test_run_without_a_config_explains_what_to_do(tmp_path):
    process = subprocess.run([sys.executable, AGENT_FILE, "run", "--config", str(tmp_path / "none.json")],
                             capture_output=True, text=True, timeout=30)
    assert process.returncode == 2
    assert "run `register` first" in process.stderr


def test_environment_variables_choose_the_default_paths(tmp_path):
    script = "import devops_agent as a; print(a.default_config_path()); print(a.default_workdir())"
    env = {**os.environ, "DEVOPS_AGENT_CONFIG": str(tmp_path / "c.json"),
           "DEVOPS_AGENT_WORKDIR": str(tmp_path / "w")}
    output = subprocess.run([sys.executable, "-c", script], cwd=os.path.dirname(AGENT_FILE), env=env,
                            capture_output=True, text=True, check=True).stdout.split()
    assert output == [str(tmp_path / "c.json"), str(tmp_path / "w")]


def test_the_agent_runs_from_standard_input_with_the_standard_library_only(tmp_path):
    with open(AGENT_FILE, "rb") as handle:
        source = handle.read()
    command = [sys.executable, "-I", "-S", "-", "--version"]
    process = subprocess.run(command, input=source, capture_output=True, timeout=30, cwd=str(tmp_path))
    assert process.stdout.decode().strip() == agent.AGENT_VERSION
    nodes = list(ast.walk(ast.parse(source)))
    names = [alias.name for node in nodes if isinstance(node, ast.Import) for alias in node.names]
    names += [node.module for node in nodes if isinstance(node, ast.ImportFrom) and node.module]
    modules = {name.split(".")[0] for name in names}
    assert modules <= set(sys.stdlib_module_names) | {"__future__"}


def test_command_line():
    args = agent.build_parser().parse_args(["register", "--url", "https://ci", "--token", "reg-1", "--labels",
                                             "docker, gpu", "--slots", "2", "--run"])
    assert (args.command, args.labels, args.slots, args.run) == ("register", "docker, gpu", 2, True)
    assert agent.build_parser().parse_args(["run", "--once"]).once


@pytest.mark.parametrize("url, expected", [("https://ci.example.com/", "https://ci.example.com"),
                                           ("https://ci.example.com/api/agent/v1/", "https://ci.example.com"),
                                           (" http://h:8000 ", "http://h:8000")])
def test_server_urls_are_normalised(url, expected):
    assert agent.normalise_server_url(url) == expected


def test_http_statuses_map_to_retry_or_give_up():
    body = json.dumps({"error": {"code": "not_found", "message": "no such job"}}).encode()
    rejected = agent.error_from_status(404, body, "POST jobs/x/logs")
    assert isinstance(rejected, agent.RequestRejected)
    assert (rejected.status, rejected.code, rejected.message) == (404, "not_found", "no such job")
    for status in (500, 502, 503, 408, 429):
        assert isinstance(agent.error_from_status(status, b"", "POST heartbeat"), agent.TransientError)
    assert agent.error_from_status(400, b"<html>", "x").code == "http_error"


def test_an_unreachable_server_is_a_transient_error():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = agent.ApiClient(f"http://127.0.0.1:{port}", "agent-1", "secret", timeout=2)
    with pytest.raises(agent.TransientError, match="POST heartbeat"):
        client.request("POST", "heartbeat", {})
    with pytest.raises(agent.TransientError):
        client.call("POST", "heartbeat", {}, attempts=2)


def test_upgrade_installs_only_a_verified_file(tmp_path):
    installed = tmp_path / "devops_agent.py"
    installed.write_text("AGENT_VERSION = '1.0.0'\n")
    os.chmod(installed, 0o750)
    upgrader = agent.Upgrader(agent.ApiClient("http://unused"), str(installed), ["run"])
    new = b"AGENT_VERSION = '1.1.0'\n"
    with pytest.raises(agent.UpgradeError, match="sha256 mismatch"):
        upgrader.install(new, hashlib.sha256(b"something else").hexdigest())
    with pytest.raises(agent.UpgradeError, match="not valid Python"):
        upgrader.install(b"def (:\n", hashlib.sha256(b"def (:\n").hexdigest())
    assert installed.read_bytes() == b"AGENT_VERSION = '1.0.0'\n"
    assert upgrader.install(new, hashlib.sha256(new).hexdigest().upper()) == str(installed)
    assert installed.read_bytes() == new
    assert stat.S_IMODE(os.stat(installed).st_mode) == 0o750
    assert sorted(os.listdir(tmp_path)) == ["devops_agent.py"]
