"""Forms of the token and webhook pages."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from apps.openapi.choices import Scope

EXPIRY_CHOICES = [("", "Never"), ("7", "7 days"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100)
    scopes = forms.MultipleChoiceField(
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="admin includes write, write includes trigger, trigger includes read.",
    )
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")

    def token_fields(self) -> dict:
        days = self.cleaned_data.get("expires_in_days")
        expires_at = timezone.now() + timedelta(days=int(days)) if days else None
        return {
            "name": self.cleaned_data["name"],
            "scopes": self.cleaned_data["scopes"],
            "expires_at": expires_at,
        }


class WebhookForm(forms.Form):
    repository_url = forms.CharField(
        max_length=500,
        required=False,
        help_text="Optional: only deliveries from this repository start builds. "
        "When blank, the pipeline's repository (if set) is the one.",
    )
    regenerate_secret = forms.BooleanField(required=False, label="Generate a new secret")

    def __init__(self, *args, pipeline_repository: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if pipeline_repository:
            self.fields["repository_url"].widget.attrs["placeholder"] = pipeline_repository
