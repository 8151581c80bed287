"""Page forms for pipelines."""

from django import forms


class PipelineForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.CharField(
        max_length=63, required=False, help_text="Optional; derived from the name. Cannot be changed later."
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    yaml = forms.CharField(
        label="YAML",
        strip=False,
        required=False,
        widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false", "class": "code"}),
    )
    message = forms.CharField(
        max_length=500, required=False, label="Version note", help_text="Stored with the new version."
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]

    def clean_yaml(self) -> str:
        return self.cleaned_data["yaml"].replace("\r\n", "\n")
