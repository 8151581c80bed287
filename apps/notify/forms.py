"""Forms of the notification pages: a pipeline's notification setting and a user's subscription."""

from django import forms

from apps.notify.choices import Channel, Trigger


class NotificationSettingForm(forms.Form):
    events = forms.MultipleChoiceField(choices=Trigger.choices, widget=forms.CheckboxSelectMultiple)
    channel = forms.ChoiceField(choices=Channel.choices)
    target = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Email addresses (comma or newline separated) for email; the webhook URL otherwise.",
    )
    secret = forms.CharField(
        required=False,
        max_length=500,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Generic webhook only: the key of the X-Devops-Signature-256 HMAC. "
        "Leave blank to keep the current one.",
    )
    clear_secret = forms.BooleanField(required=False, label="Remove the secret")
    enabled = forms.BooleanField(required=False, initial=True)

    def setting_fields(self) -> dict:
        data = self.cleaned_data
        secret = "" if data["clear_secret"] else (data["secret"] or None)
        return {
            "events": data["events"],
            "channel": data["channel"],
            "target": data["target"],
            "secret": secret,
            "enabled": data["enabled"],
        }


class SubscriptionForm(forms.Form):
    scope = forms.ChoiceField(label="Project or pipeline")
    events = forms.MultipleChoiceField(
        choices=Trigger.choices, widget=forms.CheckboxSelectMultiple, initial=[Trigger.FAILURE, Trigger.FIXED]
    )

    def __init__(self, *args, projects=(), pipelines=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(f"project:{project.slug}", f"{project.name} (every pipeline)") for project in projects]
        choices += [
            (
                f"pipeline:{pipeline.project.slug}/{pipeline.slug}",
                f"{pipeline.project.name} / {pipeline.name}",
            )
            for pipeline in pipelines
        ]
        self.fields["scope"].choices = choices

    def project_and_pipeline(self) -> tuple[str, str | None]:
        kind, _, value = self.cleaned_data["scope"].partition(":")
        if kind == "project":
            return value, None
        project, _, pipeline = value.partition("/")
        return project, pipeline
