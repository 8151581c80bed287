"""The agent endpoints of this app: register, download, and the Agent authentication class."""

import hashlib
import os

import pytest
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from apps.environment import agent_package as package_module
from apps.environment import services
from apps.environment.api.authentication import AgentAuthentication, IsAgent
from apps.environment.models import Agent, RegistrationToken
from apps.environment.tests.conftest import AGENT_SOURCE

pytestmark = pytest.mark.django_db

REGISTER_URL = "/api/agent/v1/register"
DOWNLOAD_URL = "/api/agent/v1/download"


def registration(token: str | None, **fields) -> dict:
    return {
        "token": token,
        "name": "build-01",
        "hostname": "build-01",
        "os": "linux",
        "arch": "x86_64",
        "labels": ["linux", "docker"],
        "slots": 2,
        "version": "1.0.0",
        **fields,
    }


def test_register_answers_201_with_the_agent_and_its_secret(project, users):
    _, plaintext = services.registration_token_create(project=project, user=users["owner"], labels=["ci"])
    response = APIClient().post(REGISTER_URL, registration(plaintext), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"agent_id", "secret", "heartbeat_seconds", "labels", "slots"}
    assert (
        body["labels"] == ["ci", "docker", "linux"] and body["slots"] == 2 and body["heartbeat_seconds"] == 5
    )
    agent = Agent.objects.get(pk=int(body["agent_id"]))
    assert agent.project == project and agent.version == "1.0.0" and agent.hostname == "build-01"
    assert services.agent_authenticate(f"Agent {body['agent_id']}:{body['secret']}") == agent


def test_register_refuses_a_reused_token(project, users):
    _, plaintext = services.registration_token_create(project=project, user=users["owner"])
    client = APIClient()
    assert client.post(REGISTER_URL, registration(plaintext), format="json").status_code == 201
    response = client.post(REGISTER_URL, registration(plaintext, name="build-02"), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_token_used"
    assert "already been used" in response.json()["error"]["message"]


def test_register_refuses_an_expired_token(project, users):
    token, plaintext = services.registration_token_create(project=project, user=users["owner"])
    RegistrationToken.objects.filter(pk=token.pk).update(expires_at=token.created_at)
    response = APIClient().post(REGISTER_URL, registration(plaintext), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_token_expired"


@pytest.mark.parametrize("token", ["reg-wrong", "wrong"])
def test_register_refuses_a_wrong_token(db, token):
    response = APIClient().post(REGISTER_URL, registration(token), format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "registration_token_invalid"
    assert not Agent.objects.exists()


@pytest.mark.parametrize(
    "fields", [{"token": None}, {"slots": 0}, {"labels": "linux"}, {"labels": ["two words"]}]
)
def test_register_refuses_bad_input_with_400(project, users, fields):
    _, plaintext = services.registration_token_create(project=project, user=users["owner"])
    body = {key: value for key, value in {**registration(plaintext), **fields}.items() if value is not None}
    response = APIClient().post(REGISTER_URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_failed"
    assert RegistrationToken.objects.get().used_at is None


def test_download_serves_the_agent_file_with_its_version_and_digest(db, agent_file):
    response = APIClient().get(DOWNLOAD_URL)
    assert response.status_code == 200
    assert response.content == AGENT_SOURCE
    assert response["Content-Type"].startswith("text/x-python")
    assert response["X-Agent-Version"] == "1.2.3"
    assert response["X-Agent-Sha256"] == hashlib.sha256(AGENT_SOURCE).hexdigest()


def test_download_follows_changes_to_the_file(db, agent_file):
    APIClient().get(DOWNLOAD_URL)
    changed = AGENT_SOURCE.replace(b"1.2.3", b"1.3.0") + b"# more\n"
    agent_file.write_bytes(changed)
    stat = agent_file.stat()
    os.utime(agent_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    response = APIClient().get(DOWNLOAD_URL)
    assert response.content == changed
    assert response["X-Agent-Version"] == "1.3.0"
    assert response["X-Agent-Sha256"] == hashlib.sha256(changed).hexdigest()


def test_the_package_is_read_once_while_the_file_is_unchanged(agent_file, monkeypatch):
    first = package_module.agent_package()
    monkeypatch.setattr(type(agent_file), "read_bytes", lambda self: pytest.fail("read again"))
    assert package_module.agent_package() == first


def test_download_without_the_file_is_a_404(db, settings, tmp_path):
    settings.DEVOPS_AGENT_FILE = tmp_path / "missing.py"
    response = APIClient().get(DOWNLOAD_URL)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_file_without_a_version_reports_0_0_0():
    assert package_module.agent_version_of(b"print('no version')\n") == "0.0.0"
    assert package_module.agent_version_of(b"X = 1\nAGENT_VERSION = '2.0.1'  # bumped\n") == "2.0.1"


class WhoAmI(APIView):
    authentication_classes = [AgentAuthentication]
    permission_classes = [IsAgent]

    def get(self, request):
        return Response({"agent": request.auth.pk, "user_authenticated": request.user.is_authenticated})


@pytest.fixture
def agent_and_secret(project, users):
    return services.agent_create(project=project, user=users["owner"], name="m")


def call_whoami(header: str | None):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    request = APIRequestFactory().get("/whoami", **extra)
    return WhoAmI.as_view()(request)


def test_agent_authentication_sets_the_agent_and_leaves_the_user_anonymous(agent_and_secret):
    agent, secret = agent_and_secret
    response = call_whoami(f"Agent {agent.pk}:{secret}")
    assert response.status_code == 200
    assert response.data == {"agent": agent.pk, "user_authenticated": False}


@pytest.mark.parametrize("header", ["wrong-secret", "unknown-id", "no-colon"])
def test_agent_authentication_refuses_bad_credentials_with_401(agent_and_secret, header):
    agent, secret = agent_and_secret
    value = {
        "wrong-secret": f"Agent {agent.pk}:nope",
        "unknown-id": f"Agent {agent.pk + 1}:{secret}",
        "no-colon": f"Agent {agent.pk}",
    }[header]
    response = call_whoami(value)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Agent"


@pytest.mark.parametrize("header", [None, "Bearer abc", "Basic dXNlcjpwYXNz"])
def test_requests_without_an_agent_header_are_not_authenticated(db, header):
    assert call_whoami(header).status_code == 401
