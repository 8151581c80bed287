"""Shapes of credentials in the REST API. Values are write-only: `values` is accepted on create
and replace and is never part of any response."""

from rest_framework import serializers

from apps.ticket.choices import CredentialType
from apps.ticket.models import Credential, CredentialEvent, CredentialUse


class CredentialNameSerializer(serializers.ModelSerializer):
    """What every member sees (viewers and developers see no more)."""

    class Meta:
        model = Credential
        fields = ["name", "type", "description"]


class CredentialSerializer(serializers.ModelSerializer):
    """What managers see: the facts around the value, never the value."""

    shared_with = serializers.SlugRelatedField(slug_field="slug", many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    use_count = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = Credential
        fields = [
            "name",
            "type",
            "description",
            "shared_with",
            "created_by",
            "created_at",
            "updated_at",
            "rotated_at",
            "use_count",
        ]


class ValuesField(serializers.DictField):
    child = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=64 * 1024)


class CredentialCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=CredentialType.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    values = ValuesField(write_only=True)
    shared_with = serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, default=list
    )


class CredentialUpdateSerializer(serializers.Serializer):
    description = serializers.CharField(required=False, allow_blank=True)
    shared_with = serializers.ListField(child=serializers.CharField(max_length=63), required=False)
    values = ValuesField(write_only=True, required=False)


class CredentialReplaceSerializer(serializers.Serializer):
    values = ValuesField(write_only=True)


class CredentialEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = CredentialEvent
        fields = ["credential_name", "action", "actor", "details", "at"]


class CredentialUseSerializer(serializers.ModelSerializer):
    project = serializers.CharField(source="build.pipeline.project.slug", read_only=True)
    pipeline = serializers.CharField(source="build.pipeline.slug", read_only=True)
    build_number = serializers.IntegerField(source="build.number", read_only=True)
    job = serializers.CharField(source="job.key", read_only=True)

    class Meta:
        model = CredentialUse
        fields = ["project", "pipeline", "build_number", "job", "attempt", "at"]
