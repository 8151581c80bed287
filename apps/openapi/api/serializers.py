"""Input and output shapes of tokens, webhook settings and deliveries."""

from rest_framework import serializers

from apps.openapi.choices import DeliveryOutcome, Provider, Scope
from apps.openapi.models import ApiToken, WebhookDelivery


class TokenSerializer(serializers.ModelSerializer):
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=Scope.choices), min_length=1)
    hint = serializers.CharField(read_only=True, help_text="The first characters of the token.")
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    username = serializers.CharField(
        source="user.username", read_only=True, help_text="Who the token acts as."
    )
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "scopes",
            "hint",
            "project",
            "username",
            "created_by",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "created_at", "last_used_at", "revoked_at"]


class TokenCreatedSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The token itself: shown this once only.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]


class WebhookSettingsSerializer(serializers.Serializer):
    url = serializers.URLField(read_only=True, help_text="Where the Git host sends its events.")
    repository_url = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="When set, only deliveries from this repository start builds.",
    )
    secret_hint = serializers.CharField(read_only=True)
    secret = serializers.CharField(
        read_only=True, allow_null=True, help_text="The secret, shown only when it is (re)generated."
    )
    regenerate_secret = serializers.BooleanField(write_only=True, required=False, default=False)


class WebhookDeliverySerializer(serializers.ModelSerializer):
    provider = serializers.ChoiceField(choices=Provider.choices)
    outcome = serializers.ChoiceField(choices=DeliveryOutcome.choices)
    build_number = serializers.IntegerField(
        source="build.number", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "provider",
            "delivery_id",
            "event",
            "action",
            "ref",
            "sha",
            "actor",
            "is_fork",
            "outcome",
            "reason",
            "build_number",
            "received_at",
        ]
        read_only_fields = fields


class WebhookReceiptSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=DeliveryOutcome.choices)
    reason = serializers.CharField()
    duplicate = serializers.BooleanField()
    build_number = serializers.IntegerField(allow_null=True)
