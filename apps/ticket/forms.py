"""Page forms of credentials: the value fields depend on the type and are never pre-filled."""

from django import forms

from apps.ticket.choices import MULTI_LINE_FIELDS, TYPE_FIELDS, CredentialType
from apps.ticket.validators import credential_name_validator

FIELD_LABELS = {
    "password": "Password",
    "username": "Username",
    "token": "Token",
    "private_key": "Private key (PEM)",
    "passphrase": "Passphrase",
    "certificate": "Certificate (PEM)",
    "content": "File content",
    "access_key_id": "Access key id",
    "secret_access_key": "Secret access key",
}


class SecretTextarea(forms.Textarea):
    """A textarea that never renders a value back (not even the one just posted)."""

    def format_value(self, value):
        return None


def _slugs(text: str) -> list[str]:
    return [item.strip() for item in (text or "").replace("\n", ",").split(",") if item.strip()]


class ValueFieldsMixin:
    def add_value_fields(self, type: str, *, required: bool) -> None:
        fields, required_fields = TYPE_FIELDS[type]
        for name in fields:
            if name in MULTI_LINE_FIELDS:
                widget = SecretTextarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"})
            else:
                widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
            self.fields[f"value_{name}"] = forms.CharField(
                label=FIELD_LABELS.get(name, name),
                widget=widget,
                strip=False,
                required=required and name in required_fields,
            )

    def values(self) -> dict:
        return {
            name.removeprefix("value_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("value_") and value
        }


class CredentialCreateForm(ValueFieldsMixin, forms.Form):
    name = forms.CharField(
        max_length=100, validators=[credential_name_validator], help_text="Like DEPLOY_TOKEN."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    shared_with = forms.CharField(
        required=False, help_text="Other projects (slugs, comma-separated) that may use it."
    )

    def __init__(self, *args, type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.type = CredentialType(type)
        self.add_value_fields(type, required=True)

    def clean_shared_with(self):
        return _slugs(self.cleaned_data.get("shared_with"))


class CredentialEditForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    shared_with = forms.CharField(
        required=False, help_text="Other projects (slugs, comma-separated) that may use it."
    )

    def clean_shared_with(self):
        return _slugs(self.cleaned_data.get("shared_with"))


class CredentialReplaceForm(ValueFieldsMixin, forms.Form):
    def __init__(self, *args, type: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_value_fields(type, required=True)
