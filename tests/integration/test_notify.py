"""Notifications from real builds (server, Celery worker, agent processes): a failing build emails
the actor named in the YAML `notices:` through an aiosmtpd server on loopback and calls the
pipeline's signed webhook, which answers 500 first (the worker tries again after the backoff); the
next build succeeds and is announced as "fixed" to a subscriber and to the webhook."""

import json

import pytest

from apps.notify.models import Delivery
from apps.notify.services import notification_setting_create, subscription_save
from apps.notify.tests.servers import HttpReceiver, SmtpServer, signature_valid
from apps.process.services.builds import build_start
from apps.ticket.crypto import new_key_entry, reset_key_ring
from tests.integration import harness

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

KEYS = new_key_entry("it-notify")
SECRET = "it-webhook-secret"
BASE_URL = "http://ci.example.test"
PIPELINE = """
name: notified
env:
  MARK: "MARK_PATH"
jobs:
  test:
    runs-on: [self-hosted]
    steps:
      - name: Unit tests
        run: |
          if [ -f "$MARK" ]; then echo "all green"; exit 0; fi
          touch "$MARK"
          for n in $(seq 1 30); do echo "boom line $n"; done
          exit 3
notices:
  - {type: [email], receivers: ["${{ ci.actor }}"], if: FAILURE}
"""


@pytest.fixture
def key_ring(settings):
    settings.TICKET_KEYS = KEYS
    reset_key_ring()
    yield
    reset_key_ring()


@pytest.fixture
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def hook():
    receiver = HttpReceiver(statuses=[500])
    yield receiver
    receiver.stop()


def text_of(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def test_a_failed_then_fixed_build_is_emailed_and_posted_to_a_signed_webhook(
    cluster, make_pipeline, owner, key_ring, smtp, hook, tmp_path
):
    owner.email = "owner@example.test"
    owner.save()
    pipeline = make_pipeline("notified", PIPELINE.replace("MARK_PATH", str(tmp_path / "mark")))
    notification_setting_create(
        pipeline=pipeline,
        user=owner,
        events=["failure", "fixed"],
        channel="webhook",
        target=hook.url,
        secret=SECRET,
    )
    cluster.start(
        DEVOPS_TICKET_KEYS=KEYS, DEVOPS_NOTIFY_RETRY_SECONDS="1", DEVOPS_BASE_URL=BASE_URL, **smtp.env()
    )
    cluster.start_agents(1)

    build = cluster.wait_build(build_start(pipeline=pipeline, user=owner), timeout=90)
    assert build.status == "failed", harness.job_statuses(build)

    [message] = smtp.wait(1)
    assert message["To"] == "owner@example.test"
    assert message["Subject"] == "[Failed] Integration / notified #1"
    body = text_of(message)
    assert "Pipeline: notified" in body and "Build:    #1" in body and "Status:   Failed" in body
    assert f"Link:     {BASE_URL}/projects/it/pipelines/notified/builds/1/" in body
    assert "First failing step: test / Unit tests (exit code 3)" in body
    # the last 20 lines of the step: 19 of its own and the agent's closing error line
    assert "boom line 12\n" in body and "boom line 30\n" in body and "boom line 11\n" not in body
    assert body.rstrip().endswith("##[error]Process completed with exit code 3.")

    first, second = hook.wait(2, timeout=60)[:2]
    for request in (first, second):
        assert signature_valid(SECRET, request.body, request.headers["X-Devops-Signature-256"])
    assert first.body == second.body and second.at - first.at >= 0.9  # the retry waited for its backoff
    payload = json.loads(first.body)
    assert (payload["event"], payload["build"]["number"], payload["build"]["status"]) == (
        "build.failed",
        1,
        "failed",
    )
    assert payload["build"]["url"] == f"{BASE_URL}/projects/it/pipelines/notified/builds/1/"
    delivery = harness.wait_until(
        lambda: Delivery.objects.filter(build=build, channel="webhook", status="sent").first(), 30, "sent"
    )
    assert delivery.attempts == 2 and delivery.response_code == 200
    assert list(delivery.attempt_rows.values_list("response_code", "ok")) == [(500, False), (200, True)]
    assert Delivery.objects.get(build=build, channel="email").status == "sent"

    # the next build succeeds: "fixed" for a subscriber and for the webhook, no YAML email (if: FAILURE)
    subscription_save(user=owner, project=pipeline.project, pipeline=pipeline, events=["fixed"])
    fixed = cluster.wait_build(build_start(pipeline=pipeline, user=owner), timeout=90)
    assert fixed.status == "succeeded", harness.job_statuses(fixed)
    messages = smtp.wait(2)
    assert messages[1]["Subject"] == "[Fixed] Integration / notified #2"
    assert "Integration / notified #2 is fixed" in text_of(messages[1])
    fixed_post = json.loads(hook.wait(3, timeout=30)[2].body)
    assert (fixed_post["event"], fixed_post["trigger"]) == ("build.succeeded", "fixed")
    harness.wait_until(
        lambda: Delivery.objects.filter(build=fixed, status="sent").count() == 2, 30, "both sent"
    )
    assert len(smtp.messages) == 2
