"""Fixtures of the ticket tests: a team with one member per role, a fixed key ring, API clients."""

import pytest
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.ticket.crypto import new_key_entry, reset_key_ring

KEY_A = new_key_entry("a")
KEY_B = new_key_entry("b")


@pytest.fixture(autouse=True)
def key_ring_a(settings):
    settings.TICKET_KEYS = KEY_A
    reset_key_ring()
    yield
    reset_key_ring()


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
