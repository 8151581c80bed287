"""The real agent file against a live server: download it, register it, read its config file."""

import hashlib
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from django.conf import settings

from apps.core.testing import make_team
from apps.environment import services
from apps.environment.models import Agent

AGENT_FILE = Path(settings.BASE_DIR) / "agent" / "devops_agent.py"



def test_the_real_agent_downloads_and_registers(live_server, transactional_db, tmp_path, settings):
    settings.DEVOPS_AGENT_FILE = AGENT_FILE
    project, users = make_team()
    _, plaintext = services.registration_token_create(
        project=project, user=users["maintainer"], labels=["e2e"]
    )

    with urllib.request.urlopen(f"{live_server.url}/api/agent/v1/download", timeout=30) as response:
        downloaded = response.read()
        assert response.headers["X-Agent-Sha256"] == hashlib.sha256(downloaded).hexdigest()
    assert downloaded == AGENT_FILE.read_bytes()
    agent_path = tmp_path / "devops_agent.py"
    agent_path.write_bytes(downloaded)

    config_path = tmp_path / "agent.json"
    environment = {**os.environ, "HOME": str(tmp_path), "DEVOPS_AGENT_WORKDIR": str(tmp_path / "work")}
    completed = subprocess.run(
        [
            sys.executable,
            str(agent_path),
            "register",
            "--url",
            live_server.url,
            "--token",
            plaintext,
            "--name",
            "live-01",
            "--labels",
            "gpu",
            "--slots",
            "2",
            "--config",
            str(config_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert completed.returncode == 0, completed.stderr

    config = json.loads(config_path.read_text())
    agent = Agent.objects.get(name="live-01")
    assert str(config["agent_id"]) == str(agent.pk)
    assert config["url"].rstrip("/") == live_server.url
    assert services.agent_authenticate(f"Agent {config['agent_id']}:{config['secret']}") == agent
    assert oct(config_path.stat().st_mode & 0o777) == oct(0o600)
    assert agent.project == project and agent.slots == 2 and agent.version
    assert {"e2e", "gpu", "self-hosted"} <= set(agent.labels)

    again = subprocess.run(
        [
            sys.executable,
            str(agent_path),
            "register",
            "--url",
            live_server.url,
            "--token",
            plaintext,
            "--config",
            str(tmp_path / "second.json"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment,
    )
    assert again.returncode != 0 and "registration_token_used" in again.stderr + again.stdout
    assert Agent.objects.count() == 1
