"""Projects and members over the REST API (input shape and output shape only)."""

from rest_framework import serializers

from apps.core.choices import Role
from apps.core.models import Membership, Project


class ProjectSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(max_length=63, help_text="Immutable once the project exists.")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Username.")
    my_role = serializers.ChoiceField(choices=Role.choices, read_only=True, allow_null=True)

    class Meta:
        model = Project
        fields = ["slug", "name", "description", "created_at", "created_by", "my_role"]
        read_only_fields = ["created_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["slug"].read_only = True
        return fields


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(max_length=150, help_text="Immutable once the member is added.")
    role = serializers.ChoiceField(choices=Role.choices)

    class Meta:
        model = Membership
        fields = ["username", "role", "created_at"]
        read_only_fields = ["created_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["username"].read_only = True
        return fields
