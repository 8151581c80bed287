"""Quality rules and gate checks over the REST API (shapes only; `apps.quality.rules` validates)."""

from rest_framework import serializers

from apps.quality.choices import ControlPoint, DataType, FailAction, GateResult, Operator
from apps.quality.models import GateCheck, QualityRule
from apps.quality.rules import DEFAULT_TIMEOUT_MINUTES


class IndicatorSerializer(serializers.Serializer):
    metric = serializers.CharField(max_length=200, help_text="Metric name, like coverage.line.")
    operator = serializers.ChoiceField(choices=Operator.choices)
    threshold = serializers.JSONField(help_text="A number (int, float), true/false (bool) or text (string).")
    type = serializers.ChoiceField(choices=DataType.choices, default=DataType.FLOAT)


class QualityRuleSerializer(serializers.ModelSerializer):
    indicators = IndicatorSerializer(many=True, read_only=True)
    pipelines = serializers.SlugRelatedField(
        slug_field="slug", many=True, read_only=True, help_text="Slugs; empty: every pipeline of the project."
    )
    gatekeepers = serializers.ListField(child=serializers.CharField(), read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    last_result = serializers.ChoiceField(
        choices=GateResult.choices, read_only=True, allow_null=True, help_text="Result of its newest check."
    )
    last_checked_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        model = QualityRule
        fields = [
            "id",
            "name",
            "description",
            "indicators",
            "pipelines",
            "control_point",
            "stage",
            "gate",
            "action",
            "gatekeepers",
            "timeout_minutes",
            "enabled",
            "created_by",
            "created_at",
            "updated_at",
            "last_result",
            "last_checked_at",
        ]
        read_only_fields = fields


class QualityRuleWriteSerializer(serializers.Serializer):
    """A rule to create or replace (PATCH: any subset of the fields)."""

    name = serializers.CharField(max_length=100)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    indicators = IndicatorSerializer(many=True, allow_empty=False)
    pipelines = serializers.ListField(
        child=serializers.CharField(max_length=63), required=False, help_text="Pipeline slugs; empty: all."
    )
    control_point = serializers.ChoiceField(choices=ControlPoint.choices, required=False)
    stage = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="Stage id or name (check-in, check-out)."
    )
    gate = serializers.CharField(
        max_length=100, required=False, allow_blank=True, help_text="A YAML gate's name (control point gate)."
    )
    action = serializers.ChoiceField(choices=FailAction.choices, required=False)
    gatekeepers = serializers.ListField(
        child=serializers.CharField(max_length=160),
        required=False,
        help_text="User names or role:<role>; empty: the project's maintainers and owners.",
    )
    timeout_minutes = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=f"Minutes a blocked build waits (default {DEFAULT_TIMEOUT_MINUTES}).",
    )
    enabled = serializers.BooleanField(required=False)


class GateCheckSerializer(serializers.ModelSerializer):
    rule = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True, help_text="None: a YAML gate.")
    pipeline = serializers.CharField(source="build.pipeline.slug", read_only=True)
    build_number = serializers.IntegerField(source="build.number", read_only=True)
    stage = serializers.CharField(source="stage_name", read_only=True, help_text="Stage name from the Plan.")
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    indicators = serializers.ListField(
        child=serializers.DictField(),
        read_only=True,
        help_text="Each indicator with the value seen (null: not reported), passed and reason.",
    )
    gatekeepers = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = GateCheck
        fields = [
            "id",
            "rule",
            "gate_name",
            "pipeline",
            "build_number",
            "build_attempt",
            "stage_index",
            "stage",
            "control_point",
            "indicators",
            "result",
            "reason",
            "gatekeepers",
            "decided_by",
            "comment",
            "checked_at",
            "decided_at",
        ]
        read_only_fields = fields
