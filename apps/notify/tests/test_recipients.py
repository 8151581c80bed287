"""Who hears about what: triggers and "fixed", YAML notices (condition, receivers, title, content),
pipeline settings, subscriptions, de-duplication, stage events, stale events; and the receiver of
`build_event` that only queues (it returns at once even when a receiver hangs)."""

import time

import pytest

from apps.core.services import member_remove
from apps.notify import services, services_delivery
from apps.notify.models import Delivery
from apps.notify.recipients import event_triggers
from apps.notify.tasks import notify_build_event
from apps.process.models import Build
from apps.process.signals import build_event
from devops.celery import app

pytestmark = pytest.mark.django_db

NOTICES_YAML = """name: noticed
notices:
  - type: [email]
    receivers: ["${{ ci.actor }}", "ops@example.test"]
    title: "Broke: ${{ ci.pipeline }} #${{ ci.build_number }}"
    content: "Look at it, ${{ ci.actor }}."
    if: FAILURE
  - {type: [webhook], receivers: ["HOOK"], if: ALWAYS}
  - {type: [email], receivers: [never@example.test], if: SUCCESS}
  - {type: [email], receivers: [stranger]}
jobs:
  build:
    runs-on: [linux]
    steps: [{name: Test, run: make test}]
"""


def targets(build) -> set[tuple[str, str, str]]:
    return set(Delivery.objects.filter(build=build).values_list("channel", "target", "source"))


def test_fixed_is_a_success_after_a_failure_canceled_builds_aside(finished_build):
    failed = finished_build("failed")
    assert event_triggers(failed, "build.failed") == ["failure"]
    fixed = finished_build("succeeded")
    assert event_triggers(fixed, "build.succeeded") == ["fixed", "success"]
    assert event_triggers(finished_build("succeeded"), "build.succeeded") == ["success"]
    finished_build("timed_out")
    finished_build("canceled")
    assert event_triggers(finished_build("succeeded"), "build.succeeded") == ["fixed", "success"]
    assert event_triggers(failed, "review.requested") == ["review_requested"]
    assert event_triggers(failed, "gate.blocked") == ["gate_blocked"]
    assert event_triggers(failed, "build.skipped") == []


def test_settings_rows_match_their_events(pipeline, owner, finished_build):
    make = services.notification_setting_create
    make(pipeline=pipeline, user=owner, events=["fixed"], channel="email", target="fixed@example.test")
    make(pipeline=pipeline, user=owner, events=["failure"], channel="email", target="fail@example.test")
    off = make(pipeline=pipeline, user=owner, events=["failure"], channel="email", target="off@example.test")
    services.notification_setting_update(setting=off, user=owner, enabled=False)

    failed = finished_build("failed")
    notify_build_event(failed.id, "build.failed")
    fixed = finished_build("succeeded")
    notify_build_event(fixed.id, "build.succeeded")
    again = finished_build("succeeded")
    notify_build_event(again.id, "build.succeeded")

    assert targets(failed) == {("email", "fail@example.test", "settings")}
    assert targets(fixed) == {("email", "fixed@example.test", "settings")}
    assert Delivery.objects.get(build=fixed).trigger == "fixed"
    assert targets(again) == set()


def test_yaml_notices_follow_their_condition_and_render_their_templates(
    make_pipeline, owner, users, finished_build, receiver
):
    hook = receiver()
    owner.email = "owner@example.test"
    owner.save()
    users["outsider"].email = "outsider@example.test"
    users["outsider"].save()
    yaml = NOTICES_YAML.replace("HOOK", hook.url).replace("stranger", "acme-outsider")
    pipeline = make_pipeline("Noticed", yaml)

    failed = finished_build("failed", target_pipeline=pipeline)
    services_delivery.notifications_prepare(build_id=failed.id, event="build.failed")
    succeeded = finished_build("succeeded", target_pipeline=pipeline)
    services_delivery.notifications_prepare(build_id=succeeded.id, event="build.succeeded")

    # ci.actor is the owner's username, mailed at the owner's address; the outsider is no member
    assert targets(failed) == {
        ("email", "owner@example.test", "yaml"),
        ("email", "ops@example.test", "yaml"),
        ("webhook", hook.url, "yaml"),
    }
    mail = Delivery.objects.get(build=failed, target="owner@example.test")
    assert mail.subject == "Broke: noticed #1"
    assert mail.body.startswith("Look at it, acme-owner.\n\nAcme / Noticed #1 failed.")
    assert targets(succeeded) == {("email", "never@example.test", "yaml"), ("webhook", hook.url, "yaml")}


def test_subscriptions_reach_members_with_an_address_once(pipeline, owner, users, project, finished_build):
    developer, viewer, maintainer = users["developer"], users["viewer"], users["maintainer"]
    for user in (developer, viewer, maintainer):
        user.email = f"{user.username}@example.test"
        user.save()
    services.subscription_save(user=developer, project=project, events=["failure"])
    services.subscription_save(user=viewer, project=project, pipeline=pipeline, events=["success"])
    services.subscription_save(user=maintainer, project=project, pipeline=pipeline, events=["failure"])
    # the same address in the settings: one delivery, the settings' one
    services.notification_setting_create(
        pipeline=pipeline, user=owner, events=["failure"], channel="email", target=maintainer.email
    )
    member_remove(project=project, user=owner, username=developer.username)

    failed = finished_build("failed")
    services_delivery.notifications_prepare(build_id=failed.id, event="build.failed")

    assert targets(failed) == {("email", "acme-maintainer@example.test", "settings")}
    viewer_only = finished_build("succeeded")
    services_delivery.notifications_prepare(build_id=viewer_only.id, event="build.succeeded")
    assert targets(viewer_only) == {("email", "acme-viewer@example.test", "subscription")}


def test_stage_events_and_stale_build_events(pipeline, owner, finished_build):
    services.notification_setting_create(
        pipeline=pipeline,
        user=owner,
        events=["review_requested", "gate_blocked", "failure"],
        channel="email",
        target="gate@example.test",
    )
    build = finished_build("failed")
    services_delivery.notifications_prepare(build_id=build.id, event="review.requested", stage_index=0)
    services_delivery.notifications_prepare(build_id=build.id, event="gate.blocked", stage_index=0)
    review, gate = Delivery.objects.filter(build=build).order_by("id")
    assert review.subject == "[Review requested] Acme / App #1: stage default"
    assert 'Stage "default" of Acme / App #1 waits for a review.' in review.body
    assert gate.subject == "[Gate blocked] Acme / App #1: stage default"

    Build.objects.filter(id=build.id).update(status="running", attempt=2)  # retried before the task ran
    assert services_delivery.notifications_prepare(build_id=build.id, event="build.failed") == []
    # the same event of the same attempt twice writes nothing new
    Build.objects.filter(id=build.id).update(status="blocked")
    prepare = services_delivery.notifications_prepare
    assert len(prepare(build_id=build.id, event="gate.blocked", stage_index=0)) == 1
    assert prepare(build_id=build.id, event="gate.blocked", stage_index=0) == []


def test_the_signal_receiver_only_queues_even_when_a_receiver_hangs(
    pipeline, owner, finished_build, receiver
):
    hang = receiver(hang_seconds=30)
    services.notification_setting_create(
        pipeline=pipeline, user=owner, events=["failure"], channel="webhook", target=hang.url
    )
    build = finished_build("failed")
    drain_notify_queue()

    started = time.monotonic()
    answers = build_event.send_robust(sender=None, build_id=build.id, event="build.failed")
    elapsed = time.monotonic() - started

    assert elapsed < 1.0
    assert [error for _, error in answers if isinstance(error, Exception)] == []
    assert Delivery.objects.filter(build=build).count() == 0 and hang.received() == []
    # the task waits in the notify queue
    assert ("apps.notify.tasks.notify_build_event", (build.id, "build.failed", None)) in drain_notify_queue()


def drain_notify_queue() -> list[tuple]:
    """(task name, args) of every message waiting in the notify queue, taken off it."""
    found = []
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        while (message := channel.basic_get("notify", no_ack=True)) is not None:
            found.append((message.headers.get("task"), tuple(message.decode()[0])))
    return found


REVIEWED_YAML = """name: deploy
stages:
  - name: Deploy
    check-in: {reviews: {reviewers: [acme-developer, "role:owner"]}}
    jobs: {ship: {runs-on: [linux], steps: [{run: make deploy}]}}
"""
KEPT_YAML = """name: gated
stages:
  - name: Deploy
    check-in: {gates: [{name: cov, rule: ["coverage.line >= 80"], continue-on-fail: {gatekeepers: []}}]}
    jobs: {ship: {runs-on: [linux], steps: [{run: make deploy}]}}
"""


def test_the_people_who_can_act_hear_that_a_stage_waits_for_them(make_pipeline, users):
    from apps.process.services.builds import build_start
    from apps.process.services.engine import build_advance

    for role in ("owner", "maintainer", "developer", "viewer"):
        users[role].email = f"{role}@example.test"
        users[role].save()
    for yaml, event, expected in (
        (REVIEWED_YAML, "review.requested", {"developer@example.test", "owner@example.test"}),
        (KEPT_YAML, "gate.blocked", {"maintainer@example.test", "owner@example.test"}),
    ):
        build = build_start(pipeline=make_pipeline(event, yaml), user=users["developer"])
        build_advance(build.id)
        services_delivery.notifications_prepare(build_id=build.id, event=event, stage_index=0)
        deliveries = Delivery.objects.filter(build=build)
        assert {delivery.target for delivery in deliveries} == expected
        assert {delivery.source for delivery in deliveries} == {"deciders"}
