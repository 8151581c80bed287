"""Admin of build machines, node groups and registration tokens; secret and token digests stay hidden."""

from django.contrib import admin

from apps.environment.models import Agent, NodeGroup, RegistrationToken


@admin.register(NodeGroup)
class NodeGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "project", "env_type", "created_at"]
    list_filter = ["env_type"]
    search_fields = ["name", "project__slug"]
    autocomplete_fields = ["project"]


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "project",
        "status",
        "enabled",
        "version",
        "os",
        "arch",
        "slots",
        "last_heartbeat_at",
    ]
    list_filter = ["status", "enabled", "os"]
    search_fields = ["name", "hostname", "project__slug"]
    exclude = ["secret_hash"]
    readonly_fields = [
        "hostname",
        "os",
        "arch",
        "version",
        "status",
        "last_heartbeat_at",
        "created_by",
        "created_at",
    ]
    filter_horizontal = ["node_groups"]

    def has_add_permission(self, request):
        return False


@admin.register(RegistrationToken)
class RegistrationTokenAdmin(admin.ModelAdmin):
    list_display = ["hint", "project", "created_by", "created_at", "expires_at", "used_at", "agent"]
    list_filter = ["used_at"]
    search_fields = ["hint", "project__slug"]
    exclude = ["token_hash"]
    readonly_fields = ["hint", "project", "created_by", "created_at", "used_at", "agent"]
    filter_horizontal = ["node_groups"]

    def has_add_permission(self, request):
        return False
