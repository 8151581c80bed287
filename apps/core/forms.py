"""Page forms for projects and members, and the bridge from service errors to form errors."""

from django import forms

from apps.core.choices import Role
from apps.core.errors import ApplicationError


def form_add_error(form: forms.Form, error: ApplicationError) -> None:
    details = error.details if isinstance(error.details, dict) else {}
    placed = False
    for field, messages in details.items():
        if field in form.fields and isinstance(messages, list | str):
            form.add_error(field, messages)
            placed = True
    if not placed:
        form.add_error(None, error.message)


class ProjectForm(forms.Form):
    slug = forms.CharField(max_length=63, help_text="Lowercase letters, digits and hyphens; used in URLs.")
    name = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class MemberAddForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.DEVELOPER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
