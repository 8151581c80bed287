"""Registration, authentication, heartbeats, the offline sweep and who may manage agents."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from apps.core.testing import make_team
from apps.environment import selectors, services
from apps.environment.choices import AgentStatus
from apps.environment.errors import RegistrationTokenExpired, RegistrationTokenInvalid, RegistrationTokenUsed
from apps.environment.hashing import digest
from apps.environment.models import Agent, RegistrationToken

pytestmark = pytest.mark.django_db


def register(token: str, **facts):
    values = {
        "name": "build-01",
        "hostname": "build-01",
        "os": "linux",
        "arch": "x86_64",
        "labels": ["linux"],
        "slots": 2,
        "version": "1.0.0",
    }
    return services.agent_register(token=token, **{**values, **facts})


def new_token(project, user, **options):
    return services.registration_token_create(project=project, user=user, **options)


def test_registration_exchanges_the_token_for_an_agent_and_a_secret(project, users):
    group = services.node_group_create(project=project, user=users["owner"], name="gpu", env={"CUDA": "12"})
    token, plaintext = new_token(
        project, users["maintainer"], labels=["docker", "linux"], node_groups=[group]
    )
    assert plaintext.startswith("reg-") and len(plaintext) > 40
    assert token.token_hash == digest(plaintext) and plaintext not in token.hint + token.token_hash

    agent, secret = register(plaintext, labels=["linux", "x86_64"])

    assert agent.project == project and agent.name == "build-01" and agent.slots == 2
    assert agent.labels == ["docker", "linux", "x86_64"]
    assert agent.secret_hash == digest(secret) and secret not in agent.secret_hash
    assert selectors.agent_pool_names(agent) == {"gpu"}
    assert selectors.agent_job_environment(agent) == {"CUDA": "12"}
    token.refresh_from_db()
    assert token.used_at is not None and token.agent == agent and token.state == "used"


def test_the_token_slots_win_over_the_machine(project, users):
    _, plaintext = new_token(project, users["owner"], slots=4)
    agent, _ = register(plaintext, slots=1)
    assert agent.slots == 4
    _, plaintext = new_token(project, users["owner"])
    agent, _ = register(plaintext, slots=None)
    assert agent.slots == 1


def test_a_token_registers_only_once(project, users):
    _, plaintext = new_token(project, users["owner"])
    register(plaintext)
    with pytest.raises(RegistrationTokenUsed):
        register(plaintext, name="build-02")
    assert Agent.objects.count() == 1


def test_an_expired_token_is_refused(project, users):
    token, plaintext = new_token(project, users["owner"], expires_in=timedelta(hours=1))
    RegistrationToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(RegistrationTokenExpired):
        register(plaintext)
    assert not Agent.objects.exists()


@pytest.mark.parametrize("plaintext", ["reg-unknown", "not-a-token", "", None])
def test_an_unknown_token_is_refused(project, plaintext):
    with pytest.raises(RegistrationTokenInvalid):
        register(plaintext)


def test_bad_labels_from_the_machine_leave_the_token_unused(project, users):
    token, plaintext = new_token(project, users["owner"])
    with pytest.raises(ValidationFailed):
        register(plaintext, labels=["has space"])
    token.refresh_from_db()
    assert token.used_at is None
    register(plaintext)


@pytest.mark.parametrize("role", ["developer", "viewer"])
def test_only_maintainers_create_tokens_and_agents(project, users, role):
    with pytest.raises(PermissionDenied):
        new_token(project, users[role])
    with pytest.raises(PermissionDenied):
        services.agent_create(project=project, user=users[role], name="x")


def test_outsiders_are_told_not_found(project, users):
    with pytest.raises(NotFound):
        new_token(project, users["outsider"])
    with pytest.raises(NotFound):
        selectors.agent_get_for_user(users["outsider"], project.slug, 1)


def test_shared_agents_are_managed_by_superusers_only(project, users):
    with pytest.raises(PermissionDenied):
        new_token(None, users["owner"])
    _, plaintext = new_token(None, users["superuser"], labels=["shared"])
    agent, _ = register(plaintext)
    assert agent.is_shared
    with pytest.raises(PermissionDenied):
        services.agent_update(agent=agent, user=users["owner"], enabled=False)
    services.agent_update(agent=agent, user=users["superuser"], enabled=False)


def test_a_project_sees_its_own_agents_and_the_shared_ones(project, users):
    other_project, other_users = make_team("other")
    own, _ = services.agent_create(project=project, user=users["owner"], name="own")
    shared, _ = services.agent_create(project=None, user=users["superuser"], name="shared")
    services.agent_create(project=other_project, user=other_users["owner"], name="theirs")
    assert set(selectors.agents_for_project(project)) == {own, shared}
    assert set(selectors.agent_list_for_user(users["viewer"])) == {own, shared}
    with pytest.raises(NotFound):
        selectors.agent_get_for_user(users["viewer"], project.slug, Agent.objects.get(name="theirs").pk)


def test_node_groups_of_another_project_are_refused(project, users):
    other_project, other_users = make_team("other")
    foreign = services.node_group_create(project=other_project, user=other_users["owner"], name="gpu")
    with pytest.raises(ValidationFailed):
        services.agent_create(project=project, user=users["owner"], name="a", node_groups=[foreign])


def test_job_environment_merges_node_groups_in_name_order(project, users):
    first = services.node_group_create(
        project=project, user=users["owner"], name="a", env={"X": "1", "A": "a"}
    )
    second = services.node_group_create(project=project, user=users["owner"], name="b", env={"X": "2"})
    agent, _ = services.agent_create(
        project=project, user=users["owner"], name="m", node_groups=[second, first]
    )
    assert selectors.agent_job_environment(agent) == {"X": "2", "A": "a"}
    assert selectors.agent_pool_names(agent) == {"a", "b"}


def test_node_group_names_are_unique_per_project(project, users):
    services.node_group_create(project=project, user=users["owner"], name="gpu")
    with pytest.raises(Conflict):
        services.node_group_create(project=project, user=users["owner"], name="gpu")
    other_project, other_users = make_team("other")
    services.node_group_create(project=other_project, user=other_users["owner"], name="gpu")


def test_node_group_variables_are_checked(project, users):
    with pytest.raises(ValidationFailed):
        services.node_group_create(project=project, user=users["owner"], name="g", env={"1BAD": "x"})


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "Agent",
        "Agent 1",
        "Agent :secret",
        "Agent x:secret",
        "Bearer 1:secret",
        "agent 1:s",
        "Agent ١:s",
    ],
)
def test_malformed_authorization_is_not_an_agent(header):
    assert services.parse_agent_authorization(header) is None
    assert services.agent_authenticate(header) is None


def test_authentication_needs_the_right_id_and_secret(project, users):
    agent, secret = services.agent_create(project=project, user=users["owner"], name="m")
    other, other_secret = services.agent_create(project=project, user=users["owner"], name="n")
    assert services.agent_authenticate(f"Agent {agent.pk}:{secret}") == agent
    assert services.agent_authenticate(f"Agent {agent.pk}:{other_secret}") is None
    assert services.agent_authenticate(f"Agent {agent.pk}:{secret}x") is None
    assert services.agent_authenticate(f"Agent {other.pk + 100}:{secret}") is None
    services.agent_update(agent=agent, user=users["owner"], enabled=False)
    assert services.agent_authenticate(f"Agent {agent.pk}:{secret}") == agent


def test_heartbeats_mark_online_and_the_sweep_marks_offline(project, users, settings):
    settings.AGENT_OFFLINE_SECONDS = 30
    agent, _ = services.agent_create(project=project, user=users["owner"], name="m")
    assert agent.status == AgentStatus.OFFLINE and not agent.is_online

    services.agent_record_heartbeat(agent=agent, version="1.1.0", os="linux", arch="arm64", hostname="h")
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ONLINE and agent.is_online
    assert (agent.version, agent.os, agent.arch, agent.hostname) == ("1.1.0", "linux", "arm64", "h")

    seen = agent.last_heartbeat_at
    assert services.agent_mark_offline(now=seen + timedelta(seconds=30)) == 0
    assert services.agent_mark_offline(now=seen + timedelta(seconds=31)) == 1
    agent.refresh_from_db()
    assert agent.status == AgentStatus.OFFLINE
    assert not agent.is_online_at(seen + timedelta(seconds=31)) and agent.is_online_at(
        seen + timedelta(seconds=29)
    )


def test_the_offline_delay_follows_the_setting(project, users, settings):
    agent, _ = services.agent_create(project=project, user=users["owner"], name="m")
    services.agent_record_heartbeat(agent=agent)
    seen = Agent.objects.get(pk=agent.pk).last_heartbeat_at
    settings.AGENT_OFFLINE_SECONDS = 5
    assert services.agent_mark_offline(now=seen + timedelta(seconds=6)) == 1


def test_a_disabled_agent_stays_disabled_through_heartbeats(project, users):
    agent, _ = services.agent_create(project=project, user=users["owner"], name="m")
    services.agent_update(agent=agent, user=users["maintainer"], enabled=False)
    services.agent_record_heartbeat(agent=agent)
    agent.refresh_from_db()
    assert agent.status == AgentStatus.DISABLED == agent.current_status
    services.agent_update(agent=agent, user=users["maintainer"], enabled=True)
    agent.refresh_from_db()
    assert agent.status == AgentStatus.ONLINE


def test_agent_update_and_delete(project, users):
    group = services.node_group_create(project=project, user=users["owner"], name="g")
    agent, _ = services.agent_create(project=project, user=users["owner"], name="m", labels=["a"])
    services.agent_update(
        agent=agent, user=users["maintainer"], labels=["b", "a", "b"], slots=3, node_groups=[group]
    )
    agent.refresh_from_db()
    assert agent.labels == ["a", "b"] and agent.slots == 3 and list(agent.node_groups.all()) == [group]
    with pytest.raises(ValidationFailed):
        services.agent_update(agent=agent, user=users["maintainer"], slots=0)
    with pytest.raises(PermissionDenied):
        services.agent_delete(agent=agent, user=users["developer"])
    services.agent_delete(agent=agent, user=users["maintainer"])
    assert not Agent.objects.filter(pk=agent.pk).exists()
