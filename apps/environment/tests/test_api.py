"""The user-facing REST API: every endpoint for every role, then what the endpoints answer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.environment import services
from apps.environment.models import Agent, NodeGroup, RegistrationToken

pytestmark = pytest.mark.django_db

ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "anonymous", "superuser"]
MANAGERS = {"owner", "maintainer", "superuser"}
MEMBERS = MANAGERS | {"developer", "viewer"}


@pytest.fixture
def objects(project, users):
    group = services.node_group_create(project=project, user=users["owner"], name="gpu", env={"A": "1"})
    agent, _ = services.agent_create(
        project=project, user=users["owner"], name="build-01", node_groups=[group]
    )
    token, _ = services.registration_token_create(project=project, user=users["owner"])
    return {"agent": agent.pk, "group": group.pk, "token": token.pk}


BASE = "/api/v1/projects/acme"
ENDPOINTS = [
    # (method, path, body, writes)
    ("get", "/agents/", None, False),
    ("get", "/agents/{agent}/", None, False),
    ("post", "/agents/", {"name": "new", "labels": ["linux"]}, True),
    ("patch", "/agents/{agent}/", {"labels": ["linux"], "enabled": False}, True),
    ("put", "/agents/{agent}/", {"name": "renamed", "labels": [], "slots": 2, "enabled": True}, True),
    ("delete", "/agents/{agent}/", None, True),
    ("get", "/node-groups/", None, False),
    ("get", "/node-groups/{group}/", None, False),
    ("post", "/node-groups/", {"name": "arm", "env_type": "test"}, True),
    ("patch", "/node-groups/{group}/", {"env": {"B": "2"}}, True),
    ("delete", "/node-groups/{group}/", None, True),
    ("get", "/registration-tokens/", None, False),
    ("get", "/registration-tokens/{token}/", None, False),
    ("post", "/registration-tokens/", {"labels": ["linux"]}, True),
    ("delete", "/registration-tokens/{token}/", None, True),
]


def expected_status(method: str, writes: bool, role: str) -> set[int]:
    if role == "anonymous":
        return {401, 403}
    if role == "outsider":
        return {404}
    if writes and role not in MANAGERS:
        return {403}
    return {"get": {200}, "post": {201}, "patch": {200}, "put": {200}, "delete": {204}}[method]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("method", "path", "body", "writes"), ENDPOINTS, ids=lambda v: str(v) if v else "-")
def test_permission_table(client_as, objects, role, method, path, body, writes):
    counts = (Agent.objects.count(), NodeGroup.objects.count(), RegistrationToken.objects.count())
    response = getattr(client_as(role), method)(BASE + path.format(**objects), body, format="json")
    assert response.status_code in expected_status(method, writes, role), response.content
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}
        assert (Agent.objects.count(), NodeGroup.objects.count(), RegistrationToken.objects.count()) == counts


def test_agent_list_shows_own_and_shared_agents_paginated(client_as, project, users):
    services.agent_create(project=project, user=users["owner"], name="own", labels=["linux"])
    services.agent_create(project=None, user=users["superuser"], name="shared", labels=["linux", "docker"])
    body = client_as("viewer").get(f"{BASE}/agents/").json()
    assert body["count"] == 2
    assert [(agent["name"], agent["shared"]) for agent in body["results"]] == [
        ("own", False),
        ("shared", True),
    ]
    assert "secret" not in body["results"][0] and "secret_hash" not in body["results"][0]


def test_agent_list_filters(client_as, project, users):
    online, _ = services.agent_create(
        project=project, user=users["owner"], name="alpha", labels=["linux", "docker"]
    )
    services.agent_create(project=project, user=users["owner"], name="beta", labels=["linux"])
    disabled, _ = services.agent_create(
        project=project, user=users["owner"], name="gamma", labels=["windows"]
    )
    services.agent_record_heartbeat(agent=online)
    services.agent_update(agent=disabled, user=users["owner"], enabled=False)
    client = client_as("developer")

    def names(query: str) -> list[str]:
        return [agent["name"] for agent in client.get(f"{BASE}/agents/?{query}").json()["results"]]

    assert names("status=online") == ["alpha"]
    assert names("status=offline") == ["beta"]
    assert names("status=disabled") == ["gamma"]
    assert names("label=linux") == ["alpha", "beta"]
    assert names("label=linux,docker") == ["alpha"]
    assert names("enabled=false") == ["gamma"]
    assert names("name=ET") == ["beta"]


def test_status_filter_is_right_before_the_sweep(client_as, project, users, settings):
    agent, _ = services.agent_create(project=project, user=users["owner"], name="alpha")
    services.agent_record_heartbeat(agent=agent)
    Agent.objects.filter(pk=agent.pk).update(last_heartbeat_at=timezone.now() - timedelta(seconds=31))
    settings.AGENT_OFFLINE_SECONDS = 30
    body = client_as("viewer").get(f"{BASE}/agents/?status=offline").json()
    assert [item["name"] for item in body["results"]] == ["alpha"]
    assert body["results"][0]["status"] == "offline" and body["results"][0]["is_online"] is False


def test_agent_update_sets_node_groups_of_the_project_only(client_as, objects, project, users):
    from apps.core.testing import make_team

    other_project, other_users = make_team("other")
    foreign = services.node_group_create(project=other_project, user=other_users["owner"], name="x")
    client = client_as("maintainer")
    response = client.patch(
        f"{BASE}/agents/{objects['agent']}/", {"node_groups": [foreign.pk]}, format="json"
    )
    assert response.status_code == 400
    response = client.patch(
        f"{BASE}/agents/{objects['agent']}/", {"node_groups": [], "slots": 3}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["node_groups"] == [] and response.json()["slots"] == 3


def test_maintainers_cannot_change_shared_agents(client_as, project, users):
    shared, _ = services.agent_create(project=None, user=users["superuser"], name="shared")
    response = client_as("maintainer").patch(f"{BASE}/agents/{shared.pk}/", {"enabled": False}, format="json")
    assert response.status_code == 403
    response = client_as("superuser").patch(f"{BASE}/agents/{shared.pk}/", {"enabled": False}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "disabled"


def test_agents_of_another_project_are_not_found(client_as, users):
    from apps.core.testing import make_team

    other_project, other_users = make_team("other")
    theirs, _ = services.agent_create(project=other_project, user=other_users["owner"], name="theirs")
    assert client_as("owner").get(f"{BASE}/agents/{theirs.pk}/").status_code == 404
    assert client_as("owner").delete(f"{BASE}/agents/{theirs.pk}/").status_code == 404
    assert Agent.objects.filter(pk=theirs.pk).exists()


def test_created_token_shows_plaintext_and_command_once(client_as, objects):
    client = client_as("maintainer")
    response = client.post(
        f"{BASE}/registration-tokens/",
        {"labels": ["linux"], "slots": 2, "node_groups": [objects["group"]], "expires_in_hours": 2},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    token = body["token"]
    assert token.startswith("reg-") and body["hint"] == token[:10] and body["state"] == "active"
    assert body["install_command"] == (
        "curl -fsSL http://testserver/api/agent/v1/download -o devops_agent.py && "
        f"python3 devops_agent.py register --url http://testserver --token {token} --run"
    )
    stored = RegistrationToken.objects.get(pk=body["id"])
    assert stored.slots == 2 and list(stored.node_groups.values_list("pk", flat=True)) == [objects["group"]]
    assert timedelta(hours=1, minutes=59) < stored.expires_at - timezone.now() <= timedelta(hours=2)
    listed = client.get(f"{BASE}/registration-tokens/").json()["results"]
    assert token not in str(listed) and {item["id"] for item in listed} == {objects["token"], body["id"]}
    assert token not in client.get(f"{BASE}/registration-tokens/{body['id']}/").content.decode()


def test_token_list_filters_by_state(client_as, objects, project, users):
    _, plaintext = services.registration_token_create(project=project, user=users["owner"])
    services.agent_register(token=plaintext, name="m")
    client = client_as("viewer")
    assert client.get(f"{BASE}/registration-tokens/?state=used").json()["count"] == 1
    assert client.get(f"{BASE}/registration-tokens/?state=active").json()["count"] == 1
    assert client.get(f"{BASE}/registration-tokens/?state=expired").json()["count"] == 0


def test_agent_created_over_the_api_gets_a_secret_once(client_as):
    response = client_as("owner").post(f"{BASE}/agents/", {"name": "pre-made", "slots": 2}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert services.agent_authenticate(f"Agent {body['id']}:{body['secret']}").name == "pre-made"
    assert "secret" not in client_as("owner").get(f"{BASE}/agents/{body['id']}/").json()


def test_node_group_crud(client_as, objects):
    client = client_as("maintainer")
    created = client.post(
        f"{BASE}/node-groups/", {"name": "arm", "env_type": "prod", "env": {"REGION": "eu"}}, format="json"
    )
    assert created.status_code == 201 and created.json()["env"] == {"REGION": "eu"}
    assert created.json()["agent_count"] == 0
    assert client.get(f"{BASE}/node-groups/{objects['group']}/").json()["agent_count"] == 1
    duplicate = client.post(f"{BASE}/node-groups/", {"name": "arm"}, format="json")
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    bad = client.post(f"{BASE}/node-groups/", {"name": "bad", "env": {"1X": "y"}}, format="json")
    assert bad.status_code == 400
    group_id = created.json()["id"]
    updated = client.patch(f"{BASE}/node-groups/{group_id}/", {"description": "ARM boxes"}, format="json")
    assert updated.json()["description"] == "ARM boxes" and updated.json()["env"] == {"REGION": "eu"}
    listed = client.get(f"{BASE}/node-groups/?env_type=prod").json()
    assert [group["name"] for group in listed["results"]] == ["arm"]
    assert client.delete(f"{BASE}/node-groups/{group_id}/").status_code == 204
