"""The page form of a quality rule. Indicators are written one per line, like the YAML's gate rules:
`coverage.line >= 80`, optionally followed by `as int|float|bool|string` (otherwise the type is read
from the threshold: a whole number is an int, a decimal a float, true/false a bool, else a string).
The form only splits the text; `apps.quality.rules` validates the rule as a whole."""

import re

from django import forms

from apps.quality.choices import ControlPoint, DataType, FailAction
from apps.quality.rules import DEFAULT_TIMEOUT_MINUTES, FLOAT_TEXT, INT_TEXT, MAX_TIMEOUT_MINUTES

INDICATOR_LINE = re.compile(
    r"^\s*(?P<metric>[^\s<>=!]+)\s*(?P<operator>>=|<=|==|!=|>|<)\s*(?P<threshold>.*?)"
    r"(?:\s+as\s+(?P<type>int|float|bool|string))?\s*$"
)
INDICATORS_HELP = (
    "One per line: metric, operator (> >= < <= == !=), threshold, e.g. coverage.line >= 80 or "
    'lint.clean == true. Add "as int", "as float", "as bool" or "as string" to set the type; '
    "otherwise it is read from the threshold."
)


def _inferred_type(text: str) -> str:
    if INT_TEXT.match(text):
        return DataType.INT
    if FLOAT_TEXT.match(text):
        return DataType.FLOAT
    if text.lower() in ("true", "false"):
        return DataType.BOOL
    return DataType.STRING


def indicator_from_line(line: str) -> dict:
    """One line as an indicator dict (threshold still text); ValueError when it is not one."""
    match = INDICATOR_LINE.match(line)
    if match is None:
        raise ValueError("write it as: metric operator threshold, e.g. coverage.line >= 80")
    threshold = match["threshold"]
    quoted = len(threshold) >= 2 and threshold[0] == threshold[-1] == '"'
    if quoted:
        threshold = threshold[1:-1]
    elif not threshold:
        raise ValueError("the threshold is missing, e.g. coverage.line >= 80")
    type = match["type"] or (DataType.STRING if quoted else _inferred_type(threshold))
    return {"metric": match["metric"], "operator": match["operator"], "threshold": threshold, "type": type}


def indicator_as_line(indicator: dict) -> str:
    threshold, type = indicator.get("threshold"), indicator.get("type", DataType.FLOAT)
    if isinstance(threshold, bool):
        text = "true" if threshold else "false"
    else:
        text = str(threshold)
    if type == DataType.STRING and (text != text.strip() or not text or text.startswith('"')):
        text = f'"{text}"'
    return f"{indicator.get('metric')} {indicator.get('operator')} {text} as {type}"


def _names(text: str) -> list[str]:
    return [item.strip() for item in (text or "").replace("\n", ",").split(",") if item.strip()]


class QualityRuleForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    indicators = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}), help_text=INDICATORS_HELP
    )
    pipelines = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None checked: every pipeline of the project.",
    )
    control_point = forms.ChoiceField(choices=ControlPoint.choices, initial=ControlPoint.CHECK_OUT)
    stage = forms.CharField(
        max_length=100, required=False, help_text="Stage id or name, for a check-in or check-out rule."
    )
    gate = forms.CharField(
        max_length=100,
        required=False,
        help_text="Name of a gate in the YAML's gates:, for control point gate.",
    )
    action = forms.ChoiceField(choices=FailAction.choices, initial=FailAction.FAIL, label="When it fails")
    gatekeepers = forms.CharField(
        required=False,
        help_text="Who may override a blocked build: user names or role:maintainer (comma-separated). "
        "Empty: the project's maintainers and owners.",
    )
    timeout_minutes = forms.IntegerField(
        min_value=1,
        max_value=MAX_TIMEOUT_MINUTES,
        initial=DEFAULT_TIMEOUT_MINUTES,
        help_text="A blocked build fails after this many minutes without an override.",
    )
    enabled = forms.BooleanField(required=False, initial=True)

    def __init__(self, *args, pipeline_slugs: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pipelines"].choices = [(slug, slug) for slug in pipeline_slugs]

    @classmethod
    def initial_for(cls, rule) -> dict:
        return {
            "name": rule.name,
            "description": rule.description,
            "indicators": "\n".join(indicator_as_line(item) for item in rule.indicators),
            "pipelines": [pipeline.slug for pipeline in rule.pipelines.all()],
            "control_point": rule.control_point,
            "stage": rule.stage,
            "gate": rule.gate,
            "action": rule.action,
            "gatekeepers": ", ".join(rule.gatekeepers),
            "timeout_minutes": rule.timeout_minutes,
            "enabled": rule.enabled,
        }

    def clean_indicators(self) -> list[dict]:
        lines = [line for line in self.cleaned_data["indicators"].splitlines() if line.strip()]
        indicators, errors = [], []
        for number, line in enumerate(lines, start=1):
            try:
                indicators.append(indicator_from_line(line))
            except ValueError as error:
                errors.append(f"Line {number} ({line.strip()}): {error}")
        if errors:
            raise forms.ValidationError(errors)
        return indicators

    def clean_gatekeepers(self) -> list[str]:
        return _names(self.cleaned_data.get("gatekeepers"))

    def rule_fields(self) -> dict:
        """The keyword arguments of `rules.rule_create` / `rules.rule_update`."""
        return dict(self.cleaned_data)
