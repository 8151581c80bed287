"""Admin for pipelines; versions are immutable, so they are shown read-only.

Pipelines are created through the pages or the API, where their YAML is validated.
"""

from django.contrib import admin

from apps.process.models import Pipeline, PipelineVersion

VERSION_FIELDS = ["number", "sha256", "message", "created_by", "created_at", "yaml"]


class PipelineVersionInline(admin.TabularInline):
    model = PipelineVersion
    extra = 0
    fields = ["number", "sha256", "message", "created_by", "created_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Pipeline)
class PipelineAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "project", "current_version", "is_archived", "updated_at"]
    list_filter = ["is_archived"]
    search_fields = ["slug", "name", "project__slug"]
    readonly_fields = ["current_version", "created_by", "created_at", "updated_at"]
    autocomplete_fields = ["project"]
    inlines = [PipelineVersionInline]

    def has_add_permission(self, request):
        return False


@admin.register(PipelineVersion)
class PipelineVersionAdmin(admin.ModelAdmin):
    list_display = ["pipeline", "number", "sha256", "created_by", "created_at"]
    search_fields = ["pipeline__slug", "sha256"]
    readonly_fields = ["pipeline", *VERSION_FIELDS]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
