"""What a notification is about (triggers), how it travels (channels), and a delivery's status.

A build event (`apps.process.signals`) becomes one or more triggers: a succeeded build is `success`,
and also `fixed` when the previous finished build of its pipeline had failed or timed out.
"""

from django.db import models


class Trigger(models.TextChoices):
    FAILURE = "failure", "Failed"
    SUCCESS = "success", "Succeeded"
    FIXED = "fixed", "Fixed"
    CANCELED = "canceled", "Canceled"
    REVIEW_REQUESTED = "review_requested", "Review requested"
    GATE_BLOCKED = "gate_blocked", "Gate blocked"


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook (JSON, signed)"
    SLACK = "slack", "Slack-compatible webhook"
    WECOM = "wecom", "WeCom group robot"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Source(models.TextChoices):
    YAML = "yaml", "YAML notices"
    SETTINGS = "settings", "Pipeline settings"
    SUBSCRIPTION = "subscription", "Subscription"
    DECIDERS = "deciders", "Reviewers or gatekeepers"


# The triggers of each build event (before "fixed" is added to a success).
EVENT_TRIGGERS: dict[str, tuple[str, ...]] = {
    "build.succeeded": (Trigger.SUCCESS,),
    "build.failed": (Trigger.FAILURE,),
    "build.timed_out": (Trigger.FAILURE,),
    "build.canceled": (Trigger.CANCELED,),
    "review.requested": (Trigger.REVIEW_REQUESTED,),
    "gate.blocked": (Trigger.GATE_BLOCKED,),
}
# Events that end a build: YAML `notices:` are judged on these only.
BUILD_END_EVENTS = frozenset({"build.succeeded", "build.failed", "build.timed_out", "build.canceled"})
URL_CHANNELS = frozenset({Channel.WEBHOOK, Channel.SLACK, Channel.WECOM})
