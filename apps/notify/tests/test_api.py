"""The notifications REST API: settings (maintainers; the secret write-only and sealed at rest),
subscriptions of the caller only, deliveries read-only, project scoping and token scopes."""

import pytest

from apps.notify import services_delivery
from apps.notify.models import PipelineNotification, Subscription
from apps.notify.secrets import setting_secret
from apps.openapi.services import token_create
from apps.ticket.crypto import DecryptionFailed

pytestmark = pytest.mark.django_db

SETTINGS = "/api/v1/projects/acme/pipelines/app/notification-settings/"
DELIVERIES = "/api/v1/projects/acme/pipelines/app/notification-deliveries/"
SUBSCRIPTIONS = "/api/v1/notification-subscriptions/"
SECRET = "whsec-7f3a9c1e-plaintext"


def test_a_maintainer_manages_settings_and_the_secret_never_comes_back(pipeline, client_as):
    client = client_as("maintainer")
    body = {"events": ["failure", "fixed"], "channel": "webhook", "target": "https://hooks.example.test/ci"}
    response = client.post(SETTINGS, {**body, "secret": SECRET}, format="json")
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["has_secret"] is True and "secret" not in created
    assert created["events"] == ["failure", "fixed"] and created["enabled"] is True

    row = PipelineNotification.objects.get(id=created["id"])
    assert SECRET.encode() not in bytes(row.secret_ciphertext) and setting_secret(row) == SECRET
    listed = client.get(SETTINGS).json()["results"]
    assert [item["id"] for item in listed] == [row.id] and SECRET not in str(listed)

    url = f"{SETTINGS}{row.id}/"
    kept = client.patch(url, {"events": ["success"]}, format="json").json()
    assert kept["events"] == ["success"] and kept["has_secret"] is True
    assert setting_secret(PipelineNotification.objects.get(id=row.id)) == SECRET
    assert client.patch(url, {"secret": ""}, format="json").json()["has_secret"] is False
    client.patch(url, {"secret": "again"}, format="json")
    moved = client.put(
        url, {"events": ["failure"], "channel": "slack", "target": "https://x.test/s"}, format="json"
    )
    assert moved.status_code == 200 and moved.json()["has_secret"] is False  # only a webhook is signed
    assert client.delete(url).status_code == 204
    assert not PipelineNotification.objects.filter(id=row.id).exists()


def test_a_sealed_secret_is_bound_to_its_row(pipeline, client_as):
    client = client_as("owner")
    first, second = (
        client.post(
            SETTINGS,
            {"events": ["failure"], "channel": "webhook", "target": f"https://h.test/{n}", "secret": f"s{n}"},
            format="json",
        ).json()["id"]
        for n in (1, 2)
    )
    a, b = PipelineNotification.objects.get(id=first), PipelineNotification.objects.get(id=second)
    b.secret_key_id, b.secret_nonce, b.secret_ciphertext = (
        a.secret_key_id,
        a.secret_nonce,
        a.secret_ciphertext,
    )
    with pytest.raises(DecryptionFailed):
        setting_secret(b)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["failure"], "channel": "email", "target": "dev@example.test, not-an-address"}, "target"),
        ({"events": ["failure"], "channel": "webhook", "target": "ftp://example.test/x"}, "target"),
        ({"events": ["sometimes"], "channel": "email", "target": "dev@example.test"}, "events"),
        ({"events": [], "channel": "email", "target": "dev@example.test"}, "events"),
        ({"events": ["failure"], "channel": "slack", "target": "https://x.test/", "secret": "s"}, "secret"),
        ({"events": ["failure"], "channel": "sms", "target": "123"}, "channel"),
    ],
)
def test_invalid_settings_are_refused_with_the_field(pipeline, client_as, body, field):
    response = client_as("owner").post(SETTINGS, body, format="json")
    assert response.status_code == 400, response.content
    assert field in str(response.json()["error"]["details"])


def test_settings_and_deliveries_are_for_maintainers_only(pipeline, client_as, finished_build, owner):
    client_as("owner").post(
        SETTINGS, {"events": ["failure"], "channel": "email", "target": "dev@example.test"}, format="json"
    )
    for path in (SETTINGS, DELIVERIES):
        assert client_as("developer").get(path).status_code == 403
        assert client_as("outsider").get(path).status_code == 404
        assert client_as("maintainer").get(path).status_code == 200
    assert client_as("developer").post(SETTINGS, {}, format="json").status_code == 403


def test_deliveries_are_listed_with_their_attempts_and_read_only(
    pipeline, owner, client_as, finished_build, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client_as("owner").post(
        SETTINGS, {"events": ["failure"], "channel": "email", "target": "dev@example.test"}, format="json"
    )
    [delivery_id] = services_delivery.notifications_prepare(
        build_id=finished_build("failed").id, event="build.failed"
    )
    services_delivery.delivery_attempt(delivery_id=delivery_id)
    client = client_as("maintainer")

    [item] = client.get(DELIVERIES).json()["results"]
    assert item["id"] == delivery_id and item["status"] == "sent" and item["build_number"] == 1
    assert item["channel"] == "email" and item["target"] == "dev@example.test" and item["attempts"] == 1
    detail = client.get(f"{DELIVERIES}{delivery_id}/").json()
    assert [attempt["ok"] for attempt in detail["attempt_list"]] == [True]
    assert "First failing step" in detail["body"]
    assert client.post(DELIVERIES, {}, format="json").status_code == 405
    assert client.delete(f"{DELIVERIES}{delivery_id}/").status_code == 405


def test_subscriptions_belong_to_the_caller(pipeline, client_as, users, project, make_pipeline):
    viewer, developer = client_as("viewer"), client_as("developer")
    made = viewer.post(SUBSCRIPTIONS, {"project": "acme", "events": ["failure", "fixed"]}, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["project"] == "acme" and made.json()["pipeline"] is None
    on_pipeline = viewer.post(
        SUBSCRIPTIONS, {"project": "acme", "pipeline": "app", "events": ["success"]}, format="json"
    )
    assert on_pipeline.json()["pipeline"] == "app"
    # subscribing again to the same project changes its events
    again = viewer.post(SUBSCRIPTIONS, {"project": "acme", "events": ["canceled"]}, format="json").json()
    assert again["id"] == made.json()["id"] and again["events"] == ["canceled"]
    assert Subscription.objects.filter(user=users["viewer"]).count() == 2

    assert [item["id"] for item in developer.get(SUBSCRIPTIONS).json()["results"]] == []
    own = f"{SUBSCRIPTIONS}{made.json()['id']}/"
    assert developer.get(own).status_code == 404 and developer.delete(own).status_code == 404
    assert viewer.patch(own, {"events": ["gate_blocked"]}, format="json").json()["events"] == ["gate_blocked"]
    assert viewer.delete(own).status_code == 204

    assert (
        client_as("outsider")
        .post(SUBSCRIPTIONS, {"project": "acme", "events": ["failure"]}, format="json")
        .status_code
        == 404
    )
    missing = viewer.post(
        SUBSCRIPTIONS, {"project": "acme", "pipeline": "nope", "events": ["failure"]}, format="json"
    )
    assert missing.status_code == 404


def test_token_scopes_read_and_write(pipeline, owner, client_as):
    from rest_framework.test import APIClient

    read = token_create(user=owner, name="r", scopes=["read"])[1]
    write = token_create(user=owner, name="w", scopes=["write"])[1]
    body = {"events": ["failure"], "channel": "email", "target": "dev@example.test"}
    reader, writer = APIClient(), APIClient()
    reader.credentials(HTTP_AUTHORIZATION=f"Bearer {read}")
    writer.credentials(HTTP_AUTHORIZATION=f"Bearer {write}")
    assert reader.get(SETTINGS).status_code == 200
    refused = reader.post(SETTINGS, body, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert writer.post(SETTINGS, body, format="json").status_code == 201
    assert (
        reader.post(SUBSCRIPTIONS, {"project": "acme", "events": ["failure"]}, format="json").status_code
        == 403
    )
