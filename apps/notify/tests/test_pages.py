"""The notification pages: a pipeline's settings (linked from the pipeline page, maintainers only,
the secret never shown), its deliveries, "My notifications", and the message templates in the admin."""

import pytest
from django.test import Client

from apps.notify import services, services_delivery
from apps.notify.models import MessageTemplate, PipelineNotification, Subscription
from apps.notify.secrets import setting_secret

pytestmark = pytest.mark.django_db

PIPELINE_PAGE = "/projects/acme/pipelines/app/"
SETTINGS_PAGE = "/projects/acme/pipelines/app/notifications/"


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_maintainer_adds_edits_and_removes_a_notification(pipeline, users):
    client = client_for(users["maintainer"])
    assert SETTINGS_PAGE in client.get(PIPELINE_PAGE).content.decode()
    assert client.get(SETTINGS_PAGE).status_code == 200

    response = client.post(
        SETTINGS_PAGE,
        {
            "events": ["failure", "gate_blocked"],
            "channel": "webhook",
            "target": "https://h.test/x",
            "secret": "page-secret-value",
            "enabled": "on",
        },
    )
    assert response.status_code == 302
    setting = PipelineNotification.objects.get(pipeline=pipeline)
    assert setting.events == ["failure", "gate_blocked"] and setting_secret(setting) == "page-secret-value"
    page = client.get(SETTINGS_PAGE).content.decode()
    assert "https://h.test/x" in page and "page-secret-value" not in page

    edit = f"{SETTINGS_PAGE}{setting.id}/"
    assert "page-secret-value" not in client.get(edit).content.decode()
    client.post(
        edit, {"events": ["success"], "channel": "webhook", "target": "https://h.test/y", "enabled": "on"}
    )
    setting.refresh_from_db()
    assert setting.events == ["success"] and setting.target == "https://h.test/y"
    assert setting_secret(setting) == "page-secret-value"  # a blank secret keeps it

    refused = client.post(SETTINGS_PAGE, {"events": ["failure"], "channel": "email", "target": "nobody"})
    assert refused.status_code == 400 and "not an email address: nobody" in refused.content.decode()
    client.post(f"{edit}delete/")
    assert not PipelineNotification.objects.filter(pipeline=pipeline).exists()


def test_developers_and_outsiders_do_not_see_the_settings(pipeline, users):
    assert SETTINGS_PAGE not in client_for(users["developer"]).get(PIPELINE_PAGE).content.decode()
    assert client_for(users["developer"]).get(SETTINGS_PAGE).status_code == 403
    assert client_for(users["outsider"]).get(SETTINGS_PAGE).status_code == 404
    assert client_for(users["developer"]).get(f"{SETTINGS_PAGE}deliveries/").status_code == 403


def test_the_deliveries_page_lists_deliveries(pipeline, owner, users, finished_build, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    services.notification_setting_create(
        pipeline=pipeline, user=owner, events=["failure"], channel="email", target="dev@example.test"
    )
    [delivery_id] = services_delivery.notifications_prepare(
        build_id=finished_build("failed").id, event="build.failed"
    )
    services_delivery.delivery_attempt(delivery_id=delivery_id)

    page = client_for(users["maintainer"]).get(f"{SETTINGS_PAGE}deliveries/").content.decode()
    assert "dev@example.test" in page and "build.failed" in page and "Sent" in page
    assert "/projects/acme/pipelines/app/builds/1/" in page


def test_my_notifications_subscribe_and_unsubscribe(pipeline, users, project):
    viewer = users["viewer"]
    client = client_for(viewer)
    page = client.get("/notifications/").content.decode()
    assert 'href="/notifications/"' in page and 'id="no-email"' in page
    assert "pipeline:acme/app" in page and "project:acme" in page

    assert (
        client.post("/notifications/", {"scope": "pipeline:acme/app", "events": ["failure"]}).status_code
        == 302
    )
    subscription = Subscription.objects.get(user=viewer)
    assert (subscription.project, subscription.pipeline, subscription.events) == (
        project,
        pipeline,
        ["failure"],
    )
    assert (
        client.post("/notifications/", {"scope": "project:other", "events": ["failure"]}).status_code == 400
    )
    listed = client.get("/notifications/").content.decode()
    assert 'id="subscriptions"' in listed and '<span class="muted">every pipeline</span>' not in listed

    assert client_for(users["developer"]).post(f"/notifications/{subscription.id}/delete/").status_code == 404
    client.post(f"/notifications/{subscription.id}/delete/")
    assert not Subscription.objects.filter(user=viewer).exists()


def test_message_templates_are_edited_in_the_admin(users):
    admin = client_for(users["superuser"])
    form = admin.get("/admin/notify/messagetemplate/add/?trigger=failure&channel=wecom").content.decode()
    assert "### [{{ trigger_label }}]" in form  # starts from the file default

    bad = admin.post(
        "/admin/notify/messagetemplate/add/",
        {"trigger": "failure", "channel": "email", "subject": "{% if %}", "body": "x"},
    )
    assert bad.status_code == 200 and "Not a valid template" in bad.content.decode()
    good = admin.post(
        "/admin/notify/messagetemplate/add/",
        {"trigger": "failure", "channel": "email", "subject": "{{ title }} broke", "body": "{{ build.url }}"},
    )
    assert good.status_code == 302
    assert MessageTemplate.objects.get(trigger="failure", channel="email").subject == "{{ title }} broke"
