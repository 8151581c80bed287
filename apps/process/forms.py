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


class RepositoryForm(forms.Form):
    """The pipeline's repository and the credential it is checked out with (maintainers)."""

    repository_url = forms.CharField(
        max_length=500,
        required=False,
        label="Repository URL",
        help_text="What `checkout: self` clones when the trigger names no repository: "
        "https://host/owner/repo.git, ssh://… or git@host:owner/repo.git.",
    )
    repository_credential = forms.ChoiceField(
        required=False,
        label="Credential",
        help_text="A token or username and password (HTTPS) or an SSH private key, used by checkout "
        "steps that give no token or ssh-key of their own. Pull requests from forks never get it.",
    )

    def __init__(self, *args, credentials: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", "— none —")] + [(name, name) for name in credentials]
        current = self.initial.get("repository_credential")
        if current and current not in credentials:
            choices.append((current, f"{current} (missing or not usable)"))
        self.fields["repository_credential"].choices = choices
