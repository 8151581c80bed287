"""Page forms for agents, node groups and registration tokens: labels and variables typed as text."""

from django import forms
from django.core.exceptions import ValidationError

from apps.environment.choices import EnvironmentType
from apps.environment.models import NodeGroup
from apps.environment.validators import format_env_text, parse_env_text, parse_labels_text

LABELS_HELP = "Separated by commas or spaces, e.g. linux, docker, x86_64."


class LabelsField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(required=False, help_text=LABELS_HELP, **kwargs)

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def clean(self, value):
        try:
            return parse_labels_text(super().clean(value))
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class NodeGroupsField(forms.ModelMultipleChoiceField):
    def __init__(self, project, **kwargs):
        super().__init__(
            queryset=NodeGroup.objects.filter(project=project).order_by("name"),
            required=False,
            widget=forms.CheckboxSelectMultiple,
            **kwargs,
        )


class AgentForm(forms.Form):
    name = forms.CharField(max_length=200)
    labels = LabelsField()
    slots = forms.IntegerField(min_value=1, max_value=1000, help_text="How many jobs it runs at once.")
    enabled = forms.BooleanField(required=False, help_text="A disabled agent takes no new job.")

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node_groups"] = NodeGroupsField(project)


class RegistrationTokenForm(forms.Form):
    labels = LabelsField()
    slots = forms.IntegerField(
        min_value=1, max_value=1000, required=False, help_text="Empty: the machine decides (1 unless told)."
    )
    expires_in_hours = forms.IntegerField(min_value=1, max_value=720, initial=24, label="Expires in (hours)")

    def __init__(self, *args, project, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["node_groups"] = NodeGroupsField(project)


class EnvField(forms.CharField):
    def __init__(self, **kwargs):
        super().__init__(
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
            help_text="One NAME=value a line; given to every job that runs on the group's agents.",
            **kwargs,
        )

    def prepare_value(self, value):
        return format_env_text(value) if isinstance(value, dict) else value

    def clean(self, value):
        try:
            return parse_env_text(super().clean(value))
        except ValidationError as error:
            raise ValidationError(error.messages) from error


class NodeGroupForm(forms.Form):
    name = forms.CharField(max_length=100)
    env_type = forms.ChoiceField(choices=EnvironmentType.choices, initial=EnvironmentType.BUILD, label="Type")
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    env = EnvField(label="Variables")
