"""Fixtures of the environment tests: a team, API clients per role and a temporary agent file."""

import pytest
from rest_framework.test import APIClient

from apps.core.testing import make_team

AGENT_SOURCE = b'"""A stand-in agent file."""\nAGENT_VERSION = "1.2.3"\nprint("agent")\n'


@pytest.fixture
def team(db):
    return make_team()


@pytest.fixture
def project(team):
    return team[0]


@pytest.fixture
def users(team):
    return team[1]


@pytest.fixture
def client_as(users):
    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(users[role])
        return client

    return make


@pytest.fixture
def agent_file(tmp_path, settings):
    path = tmp_path / "devops_agent.py"
    path.write_bytes(AGENT_SOURCE)
    settings.DEVOPS_AGENT_FILE = path
    return path
