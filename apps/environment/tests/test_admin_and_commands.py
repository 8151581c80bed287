"""The admin hides digests; the registration_token command; the sweep task; concurrent registrations."""

import re
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client

from apps.environment import services
from apps.environment.errors import RegistrationTokenUsed
from apps.environment.models import Agent, RegistrationToken
from apps.environment.tasks import agent_mark_offline_task


@pytest.mark.django_db
def test_admin_pages_never_show_digests(project, users):
    agent, secret = services.agent_create(project=project, user=users["owner"], name="m")
    token, plaintext = services.registration_token_create(project=project, user=users["owner"])
    client = Client()
    client.force_login(users["superuser"])
    for url in [
        f"/admin/environment/agent/{agent.pk}/change/",
        f"/admin/environment/registrationtoken/{token.pk}/change/",
        "/admin/environment/agent/",
        "/admin/environment/registrationtoken/",
        "/admin/environment/nodegroup/",
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        text = page.content.decode()
        for hidden in (agent.secret_hash, secret, token.token_hash, plaintext):
            assert hidden not in text


@pytest.mark.django_db
def test_the_command_prints_a_working_install_command(project, users):
    output = StringIO()
    call_command(
        "registration_token",
        "--project",
        "acme",
        "--labels",
        "linux,docker",
        "--url",
        "http://ci:8000/",
        stdout=output,
    )
    token = re.search(r"--token (reg-\S+) --run$", output.getvalue().strip()).group(1)
    assert output.getvalue().startswith("curl -fsSL http://ci:8000/api/agent/v1/download")
    agent, _ = services.agent_register(token=token, name="m")
    assert agent.project == project and agent.labels == ["docker", "linux"]


@pytest.mark.django_db
def test_the_command_creates_shared_tokens_as_a_superuser(users):
    output = StringIO()
    call_command("registration_token", "--quiet", stdout=output)
    agent, _ = services.agent_register(token=output.getvalue().strip(), name="shared")
    assert agent.is_shared and RegistrationToken.objects.get().created_by == users["superuser"]


@pytest.mark.django_db
def test_the_sweep_task_marks_silent_agents_offline(project, users, settings):
    agent, _ = services.agent_create(project=project, user=users["owner"], name="m")
    services.agent_record_heartbeat(agent=agent)
    settings.AGENT_OFFLINE_SECONDS = -1
    assert agent_mark_offline_task() == 1
    assert Agent.objects.get().status == "offline"


@pytest.mark.skipif(
    connection.vendor == "sqlite", reason="needs PostgreSQL: SQLite has no concurrent writers"
)
def test_two_machines_racing_for_one_token_get_one_agent(transactional_db, project, users):
    _, plaintext = services.registration_token_create(project=project, user=users["owner"])
    barrier, outcomes = threading.Barrier(4), []

    def register(index):
        barrier.wait()
        try:
            services.agent_register(token=plaintext, name=f"m{index}")
            outcomes.append("registered")
        except RegistrationTokenUsed:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=register, args=(index,)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["refused", "refused", "refused", "registered"]
    assert Agent.objects.count() == 1
