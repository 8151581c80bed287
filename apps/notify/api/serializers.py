"""Shapes of notification settings, subscriptions and deliveries in the REST API. A webhook secret
is write-only: `secret` is accepted and never answered (`has_secret` says whether one is set)."""

from rest_framework import serializers

from apps.notify.choices import Channel, Trigger
from apps.notify.models import Delivery, DeliveryAttempt, PipelineNotification, Subscription

EVENTS_HELP = "Any of: " + ", ".join(Trigger.values) + "."


class EventsField(serializers.ListField):
    child = serializers.ChoiceField(choices=Trigger.choices)

    def __init__(self, **kwargs):
        super().__init__(min_length=1, help_text=EVENTS_HELP, **kwargs)


class NotificationSettingSerializer(serializers.ModelSerializer):
    events = EventsField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    target = serializers.CharField(
        max_length=2000, help_text="Email addresses (comma separated) for email; one http(s) URL otherwise."
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        max_length=500,
        help_text="Generic webhook only: the HMAC key of X-Devops-Signature-256. Empty clears it; "
        "leave it out to keep it.",
    )
    has_secret = serializers.BooleanField(read_only=True)

    class Meta:
        model = PipelineNotification
        fields = [
            "id",
            "events",
            "channel",
            "target",
            "enabled",
            "secret",
            "has_secret",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]


class SubscriptionSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="project.slug", read_only=True)
    pipeline = serializers.CharField(source="pipeline.slug", read_only=True, allow_null=True)
    events = EventsField()

    class Meta:
        model = Subscription
        fields = ["id", "project", "pipeline", "events", "created_at", "updated_at"]
        read_only_fields = ["id", "created_at", "updated_at"]


class SubscriptionCreateSerializer(serializers.Serializer):
    project = serializers.CharField(max_length=63, help_text="Slug of one of your projects.")
    pipeline = serializers.CharField(
        max_length=63,
        required=False,
        allow_null=True,
        default=None,
        help_text="Slug of one of its pipelines; leave out for every pipeline of the project.",
    )
    events = EventsField()


class SubscriptionUpdateSerializer(serializers.Serializer):
    events = EventsField()


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["number", "ok", "response_code", "error", "duration_ms", "at"]


class DeliverySerializer(serializers.ModelSerializer):
    build_number = serializers.IntegerField(source="build.number", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "build_number",
            "build_attempt",
            "event",
            "stage_index",
            "trigger",
            "channel",
            "target",
            "source",
            "status",
            "response_code",
            "attempts",
            "last_error",
            "next_attempt_at",
            "subject",
            "created_at",
            "updated_at",
            "sent_at",
        ]


class DeliveryDetailSerializer(DeliverySerializer):
    attempt_list = DeliveryAttemptSerializer(source="attempt_rows", many=True, read_only=True)

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "body", "attempt_list"]
