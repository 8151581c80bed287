"""Admin for pipelines and builds; versions are immutable and runs change only through the engine,
so both are shown read-only.

Pipelines are created through the pages or the API, where their YAML is validated.
"""

from django.contrib import admin

from apps.process.models import Build, JobRun, Pipeline, PipelineVersion, StageRun, StepRun

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


class ReadOnlyAdminMixin:
    """Runs change only through the engine and its services: the admin shows them, never edits them."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StageRunInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StageRun
    extra = 0
    fields = ["index", "stage_id", "name", "is_finally", "status", "reason", "started_at", "finished_at"]
    readonly_fields = fields
    can_delete = False


class JobRunInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = JobRun
    extra = 0
    fields = ["key", "name", "status", "attempt", "agent", "reason", "started_at", "finished_at"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False


class StepRunInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = StepRun
    extra = 0
    fields = ["job_attempt", "index", "name", "status", "outcome", "exit_code", "attempt", "started_at",
              "finished_at"]
    readonly_fields = fields
    can_delete = False


@admin.register(Build)
class BuildAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pipeline", "number", "status", "attempt", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["pipeline__slug", "pipeline__project__slug", "created_by__username"]
    list_select_related = ["pipeline", "created_by"]
    inlines = [StageRunInline, JobRunInline]


@admin.register(JobRun)
class JobRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["build", "key", "name", "status", "attempt", "agent", "started_at", "finished_at"]
    list_filter = ["status"]
    search_fields = ["key", "name", "build__pipeline__slug"]
    list_select_related = ["build__pipeline", "agent"]
    inlines = [StepRunInline]
