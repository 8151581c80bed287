"""Admin screens of the quality app: rules can be read and switched on or off (changes with
validation go through the Quality pages, the API or `apps.quality.rules`); gate checks and
metrics are the build's record and are read-only."""

from django.contrib import admin

from apps.quality.models import GateCheck, Metric, QualityRule


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(QualityRule)
class QualityRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "control_point", "stage", "gate", "action", "enabled", "updated_at"]
    list_filter = ["control_point", "action", "enabled"]
    list_editable = ["enabled"]
    search_fields = ["name", "project__slug"]
    readonly_fields = [
        "project",
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
        "created_by",
        "created_at",
        "updated_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(GateCheck)
class GateCheckAdmin(ReadOnlyAdmin):
    list_display = [
        "checked_at",
        "gate_name",
        "build",
        "build_attempt",
        "stage_index",
        "control_point",
        "result",
    ]
    list_filter = ["result", "control_point"]
    search_fields = ["gate_name", "build__pipeline__slug"]
    readonly_fields = [
        "build",
        "build_attempt",
        "stage_index",
        "control_point",
        "rule",
        "gate_name",
        "indicators",
        "result",
        "reason",
        "gatekeepers",
        "decided_by",
        "comment",
        "checked_at",
        "decided_at",
    ]


@admin.register(Metric)
class MetricAdmin(ReadOnlyAdmin):
    list_display = ["name", "value", "build", "job", "source", "reported_at"]
    list_filter = ["source"]
    search_fields = ["name", "build__pipeline__slug"]
    readonly_fields = ["build", "job", "name", "value", "source", "reported_at"]
