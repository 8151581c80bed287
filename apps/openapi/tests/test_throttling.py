"""Rate limits per token and per anonymous IP answer 429 with Retry-After and the error body."""

import uuid

import pytest
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.openapi.tests.helpers import bearer, personal_token
from apps.openapi.throttling import AnonymousIpRateThrottle, TokenRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "3/minute", "anon": "2/minute"}
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AnonymousIpRateThrottle, "THROTTLE_RATES", rates)
    return rates


def test_token_over_its_rate_gets_429_with_retry_after(low_rates):
    _, users = make_team()
    client = bearer(personal_token(users["owner"], ["read"]))
    statuses = [client.get("/api/v1/projects/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get("/api/v1/projects/")
    assert response.status_code == 429 and 0 < int(response["Retry-After"]) <= 60
    assert response.json()["error"]["code"] == "throttled"
    # Another token of the same user has its own budget; the browser session is not limited here.
    assert bearer(personal_token(users["owner"], ["read"])).get("/api/v1/projects/").status_code == 200
    session = APIClient()
    session.force_login(users["owner"])
    assert all(session.get("/api/v1/projects/").status_code == 200 for _ in range(5))


def test_anonymous_ip_over_its_rate_gets_429(low_rates):
    address = f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7"
    client = APIClient(REMOTE_ADDR=address)
    url = "/api/v1/remote/nope/nope/trigger"
    statuses = [client.post(url, {}, format="json").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    other = APIClient(REMOTE_ADDR="10.255.255.1")
    assert other.post(url, {}, format="json").status_code == 401
