"""Admin screens of credentials: names, types and the audit trail; never a value, and no edit
form that could hold one (values change through the pages, the API or the services)."""

from django.contrib import admin

from apps.ticket.models import Credential, CredentialEvent, CredentialUse


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Credential)
class CredentialAdmin(ReadOnlyAdmin):
    list_display = ["name", "project", "type", "key_id", "updated_at", "rotated_at"]
    list_filter = ["type", "key_id"]
    search_fields = ["name", "project__slug"]
    fields = [
        "name",
        "project",
        "type",
        "description",
        "shared_with",
        "key_id",
        "created_by",
        "created_at",
        "updated_at",
        "rotated_at",
    ]
    readonly_fields = fields


@admin.register(CredentialEvent)
class CredentialEventAdmin(ReadOnlyAdmin):
    list_display = ["at", "project", "credential_name", "action", "actor"]
    list_filter = ["action"]
    search_fields = ["credential_name", "project__slug"]
    readonly_fields = ["at", "project", "credential", "credential_name", "action", "actor", "details"]


@admin.register(CredentialUse)
class CredentialUseAdmin(ReadOnlyAdmin):
    list_display = ["at", "credential", "build", "job", "attempt"]
    readonly_fields = ["at", "credential", "project", "build", "job", "attempt"]
