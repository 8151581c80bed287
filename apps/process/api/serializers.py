"""Pipelines, versions and validation results over the REST API (shapes only)."""

from rest_framework import serializers

from apps.process.models import Pipeline, PipelineVersion


class ProblemSerializer(serializers.Serializer):
    path = serializers.CharField()
    line = serializers.IntegerField()
    column = serializers.IntegerField()
    message = serializers.CharField()


class PipelineSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(
        max_length=63, required=False, help_text="Derived from the name when omitted; immutable afterwards."
    )
    project = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    yaml = serializers.CharField(
        source="current_yaml",
        trim_whitespace=False,
        allow_blank=True,
        help_text="The pipeline's YAML; saving a changed YAML creates a new version.",
    )
    message = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="A note stored with the new version.",
    )
    version = serializers.IntegerField(source="current_version.number", read_only=True, allow_null=True)
    sha256 = serializers.CharField(source="current_version.sha256", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Username.")
    repository_url = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="The repository `checkout: self` clones when the trigger names none "
        "(https://, ssh:// or user@host:path). Maintainers and owners set it.",
    )
    repository_credential = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="The name of a project credential (token, username and password, or SSH private key) "
        "the repository is checked out with. Maintainers and owners set it.",
    )

    class Meta:
        model = Pipeline
        fields = [
            "slug",
            "name",
            "description",
            "project",
            "repository_url",
            "repository_credential",
            "yaml",
            "message",
            "version",
            "sha256",
            "is_archived",
            "created_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["is_archived", "created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None:
            fields["slug"].read_only = True
        return fields


class PipelineVersionSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, help_text="Username.")

    class Meta:
        model = PipelineVersion
        fields = ["number", "sha256", "yaml", "message", "created_by", "created_at"]
        read_only_fields = fields


class PipelineVersionDiffSerializer(serializers.Serializer):
    diff = serializers.CharField(help_text="Unified diff from the first version to the second.")

    def get_fields(self):
        fields = super().get_fields()
        fields["from"] = serializers.IntegerField()
        fields["to"] = serializers.IntegerField()
        return fields


class PipelineYamlSerializer(serializers.Serializer):
    yaml = serializers.CharField(trim_whitespace=False, allow_blank=True)


class PipelineValidationSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    problems = ProblemSerializer(many=True)
