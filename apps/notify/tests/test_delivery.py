"""Deliveries over the real channels: an email to an aiosmtpd server, a signed webhook to an HTTP
server in a thread that answers 500 first, Slack and WeCom bodies, retries with backoff, giving up,
and a receiver that hangs."""

import json
import threading
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notify import services, services_delivery
from apps.notify.models import Delivery, MessageTemplate
from apps.notify.tasks import notify_build_event
from apps.notify.tests.servers import signature_valid

pytestmark = pytest.mark.django_db


def text_of(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def setting(pipeline, owner, channel, target, events=("failure",), **fields):
    return services.notification_setting_create(
        pipeline=pipeline, user=owner, events=list(events), channel=channel, target=target, **fields
    )


def test_a_failed_build_is_emailed_over_smtp_with_its_facts(pipeline, owner, finished_build, smtp, eager):
    setting(pipeline, owner, "email", "dev@example.test, lead@example.test")
    build = finished_build("failed")

    assert notify_build_event(build.id, "build.failed") == 2

    messages = smtp.wait(2)
    assert sorted(message["To"] for message in messages) == ["dev@example.test", "lead@example.test"]
    message = messages[0]
    assert message["Subject"] == "[Failed] Acme / App #1"
    assert message["X-Devops-Event"] == "build.failed"
    body = text_of(message)
    assert "Acme / App #1 failed." in body
    assert "Pipeline: App" in body and "Build:    #1" in body and "Status:   Failed" in body
    assert "Duration: 1m 15s" in body
    assert f"Trigger:  manual by {owner.username}" in body
    assert "Link:     https://ci.example.test/projects/acme/pipelines/app/builds/1/" in body
    assert "First failing step: build / Test (exit code 2)" in body
    # the last 20 lines of the failing step, not the earlier ones nor the other step's
    assert "test line 30" in body and "test line 11" in body
    assert "test line 10\n" not in body and "compiled" not in body
    deliveries = Delivery.objects.filter(build=build)
    assert {(d.status, d.attempts, d.response_code) for d in deliveries} == {("sent", 1, 250)}


def test_a_webhook_is_signed_and_retried_until_it_is_taken(
    pipeline, owner, finished_build, receiver, eager, settings
):
    settings.DEVOPS_NOTIFY_RETRY_SECONDS = 0
    hook = receiver(statuses=[500, 500])
    setting(pipeline, owner, "webhook", hook.url, secret="s3cret-value")
    build = finished_build("failed")

    notify_build_event(build.id, "build.failed")

    requests = hook.wait(3)
    assert len(requests) == 3
    for request in requests:
        assert signature_valid("s3cret-value", request.body, request.headers["X-Devops-Signature-256"])
        assert not signature_valid("other", request.body, request.headers["X-Devops-Signature-256"])
        assert request.headers["Content-Type"] == "application/json"
    assert len({request.body for request in requests}) == 1  # every retry sends the same body
    payload = json.loads(requests[0].body)
    assert payload["event"] == "build.failed" and payload["trigger"] == "failure"
    assert payload["pipeline"]["slug"] == "app" and payload["project"]["slug"] == "acme"
    assert payload["build"]["number"] == 1 and payload["build"]["status"] == "failed"
    assert payload["build"]["url"] == "https://ci.example.test/projects/acme/pipelines/app/builds/1/"
    assert (
        payload["failing_step"]["name"] == "Test"
        and payload["failing_step"]["log_lines"][-1] == "test line 30"
    )
    assert payload["title"] == "[Failed] Acme / App #1"
    delivery = Delivery.objects.get(build=build)
    assert str(delivery.id) == requests[0].headers["X-Devops-Delivery"] == str(payload["delivery"])
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("sent", 3, 200)
    attempts = list(delivery.attempt_rows.values_list("number", "ok", "response_code", "error"))
    assert attempts == [
        (1, False, 500, "HTTP 500 Internal Server Error"),
        (2, False, 500, "HTTP 500 Internal Server Error"),
        (3, True, 200, ""),
    ]


def test_a_failure_waits_for_its_backoff_and_the_sweep_sends_it(
    pipeline, owner, finished_build, receiver, settings
):
    settings.DEVOPS_NOTIFY_RETRY_SECONDS = 30
    hook = receiver(statuses=[503])
    setting(pipeline, owner, "webhook", hook.url)
    build = finished_build("failed")
    [delivery_id] = services_delivery.notifications_prepare(build_id=build.id, event="build.failed")

    assert services_delivery.delivery_attempt(delivery_id=delivery_id) == 30
    assert services_delivery.delivery_attempt(delivery_id=delivery_id) is None  # not due yet: nothing sent
    assert len(hook.received()) == 1
    delivery = Delivery.objects.get(id=delivery_id)
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 503)
    assert timedelta(seconds=28) < delivery.next_attempt_at - timezone.now() <= timedelta(seconds=30)
    assert services_delivery.deliveries_due() == []

    later = timezone.now() + timedelta(seconds=31)
    assert services_delivery.deliveries_due(now=later) == [delivery_id]
    assert services_delivery.delivery_attempt(delivery_id=delivery_id, now=later) is None
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, len(hook.received())) == ("sent", 2, 2)
    assert services_delivery.retry_delay(1) == 30 and services_delivery.retry_delay(3) == 120


def test_a_delivery_gives_up_after_the_maximum_attempts(
    pipeline, owner, finished_build, receiver, eager, settings
):
    settings.DEVOPS_NOTIFY_RETRY_SECONDS = 0
    settings.DEVOPS_NOTIFY_MAX_ATTEMPTS = 3
    hook = receiver(statuses=[500] * 10)
    setting(pipeline, owner, "slack", hook.url)
    build = finished_build("failed")

    notify_build_event(build.id, "build.failed")

    delivery = Delivery.objects.get(build=build)
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 3, None)
    assert delivery.last_error == "HTTP 500 Internal Server Error"
    assert delivery.attempt_rows.count() == 3 and len(hook.received()) == 3


def test_slack_and_wecom_bodies(pipeline, owner, finished_build, receiver, eager):
    slack, wecom = receiver(), receiver(answer=b'{"errcode":0,"errmsg":"ok"}')
    setting(pipeline, owner, "slack", slack.url)
    setting(pipeline, owner, "wecom", wecom.url)
    build = finished_build("failed")

    notify_build_event(build.id, "build.failed")

    slack_body = json.loads(slack.wait()[0].body)
    assert list(slack_body) == ["text"]
    assert (
        "*[Failed] <https://ci.example.test/projects/acme/pipelines/app/builds/1/|Acme / App #1>*"
        in slack_body["text"]
    )
    assert "```\n" in slack_body["text"] and "test line 30" in slack_body["text"]
    wecom_body = json.loads(wecom.wait()[0].body)
    assert list(wecom_body) == ["msgtype", "markdown"] and wecom_body["msgtype"] == "markdown"
    content = wecom_body["markdown"]["content"]
    assert content.startswith("### [Failed] [Acme / App #1](https://ci.example.test/")
    assert '<font color="warning">Failed</font>' in content
    assert "X-Devops-Signature-256" not in slack.received()[0].headers
    assert set(Delivery.objects.filter(build=build).values_list("status", flat=True)) == {"sent"}


def test_a_wecom_error_code_is_a_failed_attempt(pipeline, owner, finished_build, receiver, settings):
    settings.DEVOPS_NOTIFY_RETRY_SECONDS = 30
    wecom = receiver(answer=b'{"errcode":93000,"errmsg":"invalid webhook url"}')
    setting(pipeline, owner, "wecom", wecom.url)
    [delivery_id] = services_delivery.notifications_prepare(
        build_id=finished_build("failed").id, event="build.failed"
    )

    services_delivery.delivery_attempt(delivery_id=delivery_id)

    delivery = Delivery.objects.get(id=delivery_id)
    assert delivery.status == "pending" and delivery.response_code == 200
    assert delivery.last_error == "WeCom errcode 93000: invalid webhook url"


def test_an_unreachable_or_hanging_receiver_fails_the_attempt_within_the_timeout(
    pipeline, owner, finished_build, receiver, settings
):
    hang = receiver(hang_seconds=8)
    setting(pipeline, owner, "webhook", hang.url)
    setting(pipeline, owner, "webhook", "http://127.0.0.1:9/nothing-listens")
    build = finished_build("failed")
    hanging, closed = services_delivery.notifications_prepare(build_id=build.id, event="build.failed")

    started = time.monotonic()
    services_delivery.delivery_attempt(delivery_id=hanging)
    assert 4.5 < time.monotonic() - started < 7
    services_delivery.delivery_attempt(delivery_id=closed)

    errors = dict(Delivery.objects.filter(build=build).values_list("id", "last_error"))
    assert "timed out" in errors[hanging]
    assert "Connection refused" in errors[closed] or "ConnectionRefusedError" in errors[closed]
    assert set(Delivery.objects.filter(build=build).values_list("status", flat=True)) == {"pending"}


def test_an_edited_template_replaces_the_default_and_a_broken_one_falls_back(
    pipeline, owner, finished_build, smtp, eager
):
    setting(pipeline, owner, "email", "dev@example.test", events=("failure", "success"))
    MessageTemplate.objects.create(
        trigger="failure",
        channel="email",
        subject="Broken: {{ pipeline.name }} #{{ build.number }} <{{ build.status }}>",
        body="See {{ build.url }} & fix {{ failing_step.name }}",
    )
    MessageTemplate.objects.create(trigger="fixed", channel="email", subject="{% if %}", body="x")

    notify_build_event(finished_build("failed").id, "build.failed")
    notify_build_event(finished_build("succeeded").id, "build.succeeded")

    failed, succeeded = smtp.wait(2)
    assert failed["Subject"] == "Broken: App #1 <failed>"  # not HTML-escaped
    assert text_of(failed) == "See https://ci.example.test/projects/acme/pipelines/app/builds/1/ & fix Test\n"
    assert succeeded["Subject"] == "[Fixed] Acme / App #2"
    assert "Acme / App #2 is fixed" in text_of(succeeded)


def test_with_a_sender_thread_the_tasks_queue_nothing_and_the_thread_sends_what_is_due(
    pipeline, owner, finished_build, receiver, eager, settings, monkeypatch
):
    """The embedded default: one worker thread serves every queue, so deliveries go to a thread."""
    from apps.notify import sender

    settings.DEVOPS_NOTIFY_RETRY_SECONDS = 0
    monkeypatch.setattr(sender, "_started", threading.Event())
    sender._started.set()
    hook = receiver(statuses=[500])
    setting(pipeline, owner, "webhook", hook.url)
    build = finished_build("failed")

    assert notify_build_event(build.id, "build.failed") == 1
    assert hook.requests == []  # nothing was sent by the worker
    assert sender.send_due() == 1  # the first attempt: 500
    assert sender.send_due() == 1  # the retry: 200
    assert len(hook.wait(2)) == 2
    delivery = Delivery.objects.get(build=build)
    assert (delivery.status, list(delivery.attempt_rows.values_list("response_code", flat=True))) == (
        "sent", [500, 200]
    )
    assert sender.send_due() == 0
