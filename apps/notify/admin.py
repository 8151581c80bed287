"""Admin screens: message templates are edited here (subject and body as Django templates, checked
on save); settings, subscriptions and deliveries are shown, never a webhook secret."""

from django import forms
from django.contrib import admin
from django.template import TemplateSyntaxError

from apps.notify.messages import compile_text, default_sources
from apps.notify.models import Delivery, DeliveryAttempt, MessageTemplate, PipelineNotification, Subscription

CONTEXT_HELP = (
    "Django template. Context: title, trigger, trigger_label, event, channel, content (a YAML notice's), "
    "project.{name,slug}, pipeline.{name,slug,url}, build.{number,attempt,status,status_label,reason,url,"
    "duration,duration_seconds,trigger,actor,branch,tag,ref,sha,short_sha,started_at,finished_at}, "
    "stage.{name,id,status,reason,reviewers,review_description}, "
    "failing_step.{job,name,status,exit_code,reason,log_lines}."
)


class MessageTemplateForm(forms.ModelForm):
    class Meta:
        model = MessageTemplate
        fields = ["trigger", "channel", "subject", "body"]
        help_texts = {"body": CONTEXT_HELP}

    def clean(self):
        data = super().clean()
        for field in ("subject", "body"):
            try:
                compile_text(data.get(field) or "")
            except TemplateSyntaxError as error:
                self.add_error(field, f"Not a valid template: {error}")
        return data


@admin.register(MessageTemplate)
class MessageTemplateAdmin(admin.ModelAdmin):
    form = MessageTemplateForm
    list_display = ["trigger", "channel", "subject", "updated_at"]
    list_filter = ["trigger", "channel"]

    def get_changeform_initial_data(self, request):
        """A new template starts from the file default of the trigger and channel in the query."""
        initial = super().get_changeform_initial_data(request)
        trigger, channel = initial.get("trigger", "failure"), initial.get("channel", "email")
        subject, body = default_sources(trigger, channel)
        return {"trigger": trigger, "channel": channel, "subject": subject.strip(), "body": body, **initial}


@admin.register(PipelineNotification)
class PipelineNotificationAdmin(admin.ModelAdmin):
    list_display = ["pipeline", "channel", "target", "enabled", "updated_at"]
    list_filter = ["channel", "enabled"]
    fields = ["pipeline", "events", "channel", "target", "enabled", "has_secret", "created_by", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True)
    def has_secret(self, setting):
        return setting.has_secret


@admin.register(Subscription)
class SubscriptionAdmin(admin.ModelAdmin):
    list_display = ["user", "project", "pipeline", "updated_at"]
    raw_id_fields = ["user", "project", "pipeline"]


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ["number", "ok", "response_code", "error", "duration_ms", "at"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "build", "event", "channel", "target", "status", "attempts", "response_code"]
    list_filter = ["status", "channel", "event"]
    search_fields = ["target", "subject"]
    inlines = [DeliveryAttemptInline]
    readonly_fields = [field.name for field in Delivery._meta.fields]

    def has_add_permission(self, request):
        return False
