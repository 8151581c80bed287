"""The run form of a pipeline: one field per manual input (declared in the pipeline's YAML), and the
branch; and a stage review's form: its inputs and a comment. Field types follow the inputs' types;
the compiler (or the review service) checks the values again."""

from django import forms

from apps.process.selectors_builds import pipeline_run_spec

INPUT_PREFIX = "input_"
INPUT_PROBLEM_PATH = "on.manual.inputs."


class NumberInputField(forms.FloatField):
    """A number as the pipeline sees it: whole numbers stay integers."""

    widget = forms.NumberInput(attrs={"step": "any"})

    def to_python(self, value):
        number = super().to_python(value)
        return int(number) if number is not None and number.is_integer() else number


def choice_field(options: list[str], spec: dict, common: dict) -> forms.ChoiceField:
    choices = [(option, option) for option in options]
    if not spec["required"] or spec["default"] is None:
        choices.insert(0, ("", "—"))
    return forms.ChoiceField(choices=choices, required=spec["required"], **common)


def input_field(name: str, spec: dict, environments: list[str]) -> forms.Field:
    common = {"label": name, "help_text": spec.get("description") or "", "initial": spec.get("default")}
    kind = spec["type"]
    if kind == "boolean":
        return forms.BooleanField(required=False, **common)
    if kind == "number":
        return NumberInputField(required=spec["required"], **common)
    if kind == "choice":
        return choice_field(spec.get("options") or [], spec, common)
    if kind == "environment" and environments:
        default = spec.get("default")
        options = list(environments) if default in (None, *environments) else [default, *environments]
        return choice_field(options, spec, common)
    return forms.CharField(required=spec["required"], max_length=1000, **common)


class InputsForm(forms.Form):
    """A form with one field per typed input (the run form's, or a stage review's), first."""

    def __init__(self, *args, inputs: dict, environments: list[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.input_names = list(inputs)
        others = list(self.fields)
        for name, spec in inputs.items():
            self.fields[INPUT_PREFIX + name] = input_field(name, spec, list(environments))
        self.order_fields([INPUT_PREFIX + name for name in self.input_names] + others)

    def input_fields(self) -> list[forms.BoundField]:
        return [self[INPUT_PREFIX + name] for name in self.input_names]

    def input_values(self) -> dict:
        """The inputs to start the build with; an empty field is left out, so its default applies."""
        values = {}
        for name in self.input_names:
            value = self.cleaned_data.get(INPUT_PREFIX + name)
            if value is not None and value != "":
                values[name] = value
        return values


class BuildRunForm(InputsForm):
    branch = forms.CharField(max_length=200, initial="main", help_text="Built as refs/heads/<branch>.")

    def add_problems(self, problems: list[dict]) -> None:
        """Place the compiler's problems on the input fields they name; others on the form."""
        for problem in problems:
            path = problem.get("path") or ""
            field = INPUT_PREFIX + path.removeprefix(INPUT_PROBLEM_PATH)
            if path.startswith(INPUT_PROBLEM_PATH) and field in self.fields:
                self.add_error(field, problem["message"])
            else:
                self.add_error(None, f"{problem.get('line')}:{problem.get('column')}: {problem['message']}")


class ReviewForm(InputsForm):
    """A reviewer's decision: the review's inputs (for an approval) and a comment."""

    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))


def run_form_for(pipeline, data=None) -> tuple[BuildRunForm | None, str]:
    """The pipeline's run form, or None and the reason it cannot run by hand."""
    spec = pipeline_run_spec(pipeline)
    if not spec.enabled:
        return None, spec.problem
    return BuildRunForm(data, inputs=spec.inputs, environments=spec.environments), ""
