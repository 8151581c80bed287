"""Pages: who sees them, who may change things, and the one copy-paste install command."""

import html
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.environment import services
from apps.environment.models import Agent, NodeGroup, RegistrationToken
from apps.environment.templatetags.environment_tags import seconds_ago

pytestmark = pytest.mark.django_db

MEMBERS = ["owner", "maintainer", "developer", "viewer", "superuser"]
MANAGERS = ["owner", "maintainer", "superuser"]
READERS = ["developer", "viewer"]


@pytest.fixture
def browser_as(users):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    return make


@pytest.fixture
def objects(project, users):
    group = services.node_group_create(project=project, user=users["owner"], name="gpu", env={"CUDA": "12"})
    agent, _ = services.agent_create(
        project=project, user=users["owner"], name="build-01", labels=["linux", "docker"], node_groups=[group]
    )
    services.agent_record_heartbeat(agent=agent, version="1.0.0", os="linux", arch="x86_64", hostname="b1")
    return {"agent": agent, "group": group}


def read_pages(objects):
    agent, group = objects["agent"].pk, objects["group"].pk
    return [
        "/projects/acme/agents/",
        f"/projects/acme/agents/{agent}/",
        "/projects/acme/node-groups/",
        f"/projects/acme/node-groups/{group}/",
    ]


@pytest.mark.parametrize("role", MEMBERS)
def test_members_see_the_pages(browser_as, objects, role):
    client = browser_as(role)
    for url in read_pages(objects):
        response = client.get(url)
        assert response.status_code == 200, url
    table = client.get("/projects/acme/agents/").content.decode()
    for text in ["build-01", "online", "1.0.0", "linux / x86_64", "docker", "gpu"]:
        assert text in table
    assert re.search(r"\d+ s ago", table)


def test_outsiders_get_404_on_every_page(browser_as, objects):
    client = browser_as("outsider")
    for url in [*read_pages(objects), "/projects/acme/agents/add/", "/projects/acme/node-groups/new/"]:
        assert client.get(url).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(objects):
    response = Client().get("/projects/acme/agents/")
    assert response.status_code == 302 and "login" in response["Location"]


@pytest.mark.parametrize("role", MANAGERS)
def test_managers_add_a_build_machine_with_one_command(browser_as, objects, role, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "ci.example.com"]
    client = browser_as(role)
    assert client.get("/projects/acme/agents/add/").status_code == 200
    response = client.post(
        "/projects/acme/agents/add/",
        {
            "labels": "linux, docker",
            "slots": "2",
            "expires_in_hours": "24",
            "node_groups": [objects["group"].pk],
        },
        HTTP_HOST="ci.example.com:8000",
    )
    assert response.status_code == 200
    commands = re.findall(r'<pre class="command"[^>]*>(.*?)</pre>', response.content.decode(), re.S)
    assert len(commands) == 1
    match = re.fullmatch(
        r"curl -fsSL http://ci\.example\.com:8000/api/agent/v1/download -o devops_agent\.py && "
        r"python3 devops_agent\.py register --url http://ci\.example\.com:8000 --token (reg-[\w-]+) --run",
        html.unescape(commands[0]),
    )
    assert match, commands[0]
    agent, _ = services.agent_register(token=match.group(1), name="new-machine")
    assert agent.labels == ["docker", "linux"] and agent.slots == 2 and agent.project.slug == "acme"
    assert list(agent.node_groups.all()) == [objects["group"]]


@pytest.mark.parametrize("role", READERS)
def test_readers_cannot_add_machines_or_change_things(browser_as, objects, role):
    client = browser_as(role)
    agent, group = objects["agent"], objects["group"]
    assert client.get("/projects/acme/agents/add/").status_code == 403
    assert client.post("/projects/acme/agents/add/", {"expires_in_hours": "1"}).status_code == 403
    assert client.get("/projects/acme/node-groups/new/").status_code == 403
    assert client.post(f"/projects/acme/agents/{agent.pk}/", {"name": "x", "slots": "1"}).status_code == 403
    assert client.post(f"/projects/acme/agents/{agent.pk}/delete/").status_code == 403
    assert (
        client.post(f"/projects/acme/node-groups/{group.pk}/", {"name": "x", "env_type": "dev"}).status_code
        == 403
    )
    assert client.post(f"/projects/acme/node-groups/{group.pk}/delete/").status_code == 403
    assert "Add a build machine" not in client.get("/projects/acme/agents/").content.decode()
    assert not RegistrationToken.objects.exists()
    agent.refresh_from_db()
    assert agent.name == "build-01"


def test_agent_edit_page_saves_labels_slots_and_groups(browser_as, objects):
    agent = objects["agent"]
    response = browser_as("maintainer").post(
        f"/projects/acme/agents/{agent.pk}/", {"name": "build-01b", "labels": "arm64 linux", "slots": "3"}
    )
    assert response.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.labels, agent.slots, agent.enabled) == (
        "build-01b",
        ["arm64", "linux"],
        3,
        False,
    )
    assert not agent.node_groups.exists()


def test_agent_edit_page_shows_errors(browser_as, objects):
    response = browser_as("owner").post(
        f"/projects/acme/agents/{objects['agent'].pk}/", {"name": "n", "labels": "bad!label", "slots": "1"}
    )
    assert response.status_code == 200 and "not a valid label" in response.content.decode()


def test_agent_delete_page(browser_as, objects):
    response = browser_as("owner").post(f"/projects/acme/agents/{objects['agent'].pk}/delete/")
    assert response.status_code == 302 and not Agent.objects.exists()


def test_node_group_pages_create_edit_and_delete(browser_as, objects):
    client = browser_as("maintainer")
    response = client.post(
        "/projects/acme/node-groups/new/",
        {"name": "arm", "env_type": "test", "description": "ARM boxes", "env": "REGION=eu\n# note\nA=b=c\n"},
    )
    assert response.status_code == 302
    group = NodeGroup.objects.get(name="arm")
    assert group.env == {"REGION": "eu", "A": "b=c"} and group.env_type == "test"
    duplicate = client.post("/projects/acme/node-groups/new/", {"name": "arm", "env_type": "test"})
    assert duplicate.status_code == 200 and "already exists" in duplicate.content.decode()
    bad = client.post(
        f"/projects/acme/node-groups/{group.pk}/", {"name": "arm", "env_type": "dev", "env": "no"}
    )
    assert bad.status_code == 200 and "NAME=value" in bad.content.decode()
    client.post(f"/projects/acme/node-groups/{group.pk}/", {"name": "arm2", "env_type": "dev", "env": ""})
    group.refresh_from_db()
    assert (group.name, group.env_type, group.env) == ("arm2", "dev", {})
    assert client.post(f"/projects/acme/node-groups/{group.pk}/delete/").status_code == 302
    assert not NodeGroup.objects.filter(pk=group.pk).exists()


def test_agents_page_lists_and_revokes_unused_tokens(browser_as, objects, project, users):
    token, _ = services.registration_token_create(project=project, user=users["owner"])
    client = browser_as("owner")
    assert token.hint in client.get("/projects/acme/agents/").content.decode()
    assert client.post(f"/projects/acme/registration-tokens/{token.pk}/delete/").status_code == 302
    assert not RegistrationToken.objects.exists()


def test_agents_page_filters_by_status(browser_as, objects, project, users):
    services.agent_create(project=project, user=users["owner"], name="idle-02")
    page = browser_as("viewer").get("/projects/acme/agents/?status=offline").content.decode()
    assert "idle-02" in page and "build-01" not in page


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0 s ago"), (12, "12 s ago"), (90, "1 min ago"), (7200, "2 h ago"), (200000, "2 d ago")],
)
def test_seconds_ago(seconds, text):
    now = timezone.now()
    assert seconds_ago(now - timedelta(seconds=seconds), now) == text
    assert seconds_ago(None) == "never"
