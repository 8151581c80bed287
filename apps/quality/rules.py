"""Writes of quality rules: create, change and delete, each after the whole rule is checked.

Only maintainers and owners of the project write rules. `check_rule` validates every field at once
and raises one `ValidationFailed` whose details name each field with what is wrong, e.g.
`{"indicators": ["indicator 1 (coverage.line): threshold 'abc' is not a number (type float)"]}`.

An indicator is stored as `{"metric", "operator", "threshold", "type"}` with the threshold already
of its type (int, float, bool or string), the shape `apps.process.engine.gates` evaluates.
Gatekeepers are user names (members of the project) or `role:<role>`; a blocking rule without
gatekeepers may be overridden by the project's maintainers and owners.
"""

import math
import re

from django.db import IntegrityError, transaction

from apps.core.choices import Role
from apps.core.errors import ValidationFailed
from apps.core.models import Project
from apps.core.permissions import require_role
from apps.core.selectors import membership_list
from apps.process.selectors import pipeline_list_for_user
from apps.quality.choices import ControlPoint, DataType, FailAction, Operator
from apps.quality.models import QualityRule

METRIC_NAME = re.compile(r"^[A-Za-z_][\w.-]*$")
INT_TEXT = re.compile(r"^[+-]?\d+$")
FLOAT_TEXT = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$")
ORDERING_OPERATORS = frozenset({Operator.GT, Operator.GE, Operator.LT, Operator.LE})
INDICATOR_KEYS = ("metric", "operator", "threshold", "type")
ROLE_PREFIX = "role:"
MAX_INDICATORS = 50
MAX_GATEKEEPERS = 50
MAX_TIMEOUT_MINUTES = 30 * 24 * 60
DEFAULT_TIMEOUT_MINUTES = 24 * 60
NAME_LENGTH = 100
STRING_THRESHOLD_LENGTH = 500


class Problems(dict):
    """Field name -> messages; raised as one ValidationFailed naming every field at fault."""

    def add(self, field: str, message: str) -> None:
        self.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self:
            summary = "; ".join(f"{field}: {messages[0]}" for field, messages in self.items())
            raise ValidationFailed(f"The quality rule is not valid. {summary}", details=dict(self))


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else f"{text[:57]}..."


def parse_threshold(value, type: str):
    """The threshold as a value of `type`; ValueError with a sentence saying why not."""
    if type in (DataType.INT, DataType.FLOAT):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise ValueError(f"threshold {_shown(value)} is not a number (type {type})")
        text = value.strip() if isinstance(value, str) else value
        if isinstance(text, str) and not FLOAT_TEXT.match(text):
            raise ValueError(f"threshold {_shown(value)} is not a number (type {type})")
        try:
            number = float(text)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise ValueError(f"threshold {_shown(value)} is not a finite number")
        if type == DataType.FLOAT:
            return number
        if isinstance(text, str) and not INT_TEXT.match(text) or not number.is_integer():
            raise ValueError(f"threshold {_shown(value)} is not a whole number (type int)")
        return int(text) if isinstance(text, str) else int(number)
    if type == DataType.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        raise ValueError(f"threshold {_shown(value)} is not true or false (type bool)")
    if isinstance(value, bool):
        return "true" if value else "false"
    if not isinstance(value, int | float | str):
        raise ValueError(f"threshold {_shown(value)} is not text (type string)")
    text = str(value)
    if "\x00" in text:
        raise ValueError("threshold must not contain NUL characters")
    if len(text) > STRING_THRESHOLD_LENGTH:
        raise ValueError(f"threshold is longer than {STRING_THRESHOLD_LENGTH} characters")
    return text


def check_indicator(item) -> dict:
    """One indicator, cleaned; ValueError naming the key at fault."""
    if not isinstance(item, dict):
        raise ValueError("must be an object with metric, operator, threshold and type")
    unknown = sorted(set(item) - set(INDICATOR_KEYS))
    if unknown:
        raise ValueError(f"unknown key {_shown(unknown[0])} (keys: {', '.join(INDICATOR_KEYS)})")
    metric = item.get("metric")
    if not isinstance(metric, str) or not METRIC_NAME.match(metric) or len(metric) > 200:
        raise ValueError(f"metric {_shown(metric)} must look like coverage.line (letters, digits, _ . -)")
    operator = item.get("operator")
    if operator not in Operator.values:
        raise ValueError(f"operator {_shown(operator)} must be one of {' '.join(Operator.values)}")
    type = item.get("type", DataType.FLOAT)
    if type not in DataType.values:
        raise ValueError(f"type {_shown(type)} must be one of {', '.join(DataType.values)}")
    if operator in ORDERING_OPERATORS and type in (DataType.BOOL, DataType.STRING):
        raise ValueError(f"operator {operator} compares numbers; a {type} takes == or !=")
    if "threshold" not in item or item["threshold"] is None:
        raise ValueError("threshold is missing")
    threshold = parse_threshold(item["threshold"], type)
    return {"metric": metric, "operator": str(operator), "threshold": threshold, "type": str(type)}


def check_indicators(indicators, problems: Problems) -> list[dict]:
    if not isinstance(indicators, list | tuple) or not indicators:
        problems.add("indicators", "a rule needs at least one indicator (metric, operator, threshold)")
        return []
    if len(indicators) > MAX_INDICATORS:
        problems.add("indicators", f"a rule has at most {MAX_INDICATORS} indicators")
        return []
    clean = []
    for number, item in enumerate(indicators, start=1):
        label = f"indicator {number}"
        if isinstance(item, dict) and isinstance(item.get("metric"), str) and item["metric"]:
            label += f" ({item['metric'][:40]})"
        try:
            clean.append(check_indicator(item))
        except ValueError as error:
            problems.add("indicators", f"{label}: {error}")
    return clean


def check_gatekeepers(project: Project, gatekeepers, problems: Problems) -> list[str]:
    if not isinstance(gatekeepers, list | tuple) or not all(isinstance(item, str) for item in gatekeepers):
        problems.add("gatekeepers", "must be a list of user names or role:<role>")
        return []
    names = list(dict.fromkeys(item.strip() for item in gatekeepers if item.strip()))
    if len(names) > MAX_GATEKEEPERS:
        problems.add("gatekeepers", f"at most {MAX_GATEKEEPERS} gatekeepers")
    members = set(membership_list(project).values_list("user__username", flat=True))
    for name in names:
        if name.startswith(ROLE_PREFIX):
            if name.removeprefix(ROLE_PREFIX) not in Role.values:
                problems.add("gatekeepers", f"{name!r} is not role:<{'|'.join(Role.values)}>")
        elif name not in members:
            problems.add("gatekeepers", f"{name!r} is not a member of {project.slug}")
    return names


def check_pipelines(project: Project, pipelines, problems: Problems) -> list:
    if not isinstance(pipelines, list | tuple) or not all(isinstance(item, str) for item in pipelines):
        problems.add("pipelines", "must be a list of pipeline slugs")
        return []
    slugs = list(dict.fromkeys(pipelines))
    found = {p.slug: p for p in pipeline_list_for_user(None, project=project).filter(slug__in=slugs)}
    for slug in slugs:
        if slug not in found:
            problems.add("pipelines", f"no pipeline {slug!r} in project {project.slug}")
    return [found[slug] for slug in slugs if slug in found]


def _check_text(problems: Problems, field: str, value, *, required: bool, limit: int = NAME_LENGTH) -> str:
    if not isinstance(value, str):
        problems.add(field, "must be text")
        return ""
    value = value.strip()
    if "\x00" in value:
        problems.add(field, "must not contain NUL characters")
    elif required and not value:
        problems.add(field, "is required")
    elif len(value) > limit:
        problems.add(field, f"is longer than {limit} characters")
    return value


def check_rule(*, project: Project, fields: dict, rule: QualityRule | None = None) -> dict:
    """Every field of a rule, cleaned, with `pipelines` as Pipeline rows; ValidationFailed otherwise."""
    problems = Problems()
    clean = {
        "name": _check_text(problems, "name", fields["name"], required=True),
        "description": _check_text(
            problems, "description", fields["description"], required=False, limit=5000
        ),
        "stage": _check_text(problems, "stage", fields["stage"], required=False),
        "gate": _check_text(problems, "gate", fields["gate"], required=False),
        "indicators": check_indicators(fields["indicators"], problems),
        "pipelines": check_pipelines(project, fields["pipelines"], problems),
        "gatekeepers": check_gatekeepers(project, fields["gatekeepers"], problems),
    }
    others = QualityRule.objects.filter(project=project, name=clean["name"])
    if clean["name"] and others.exclude(pk=getattr(rule, "pk", None)).exists():
        problems.add("name", f"a rule named {clean['name']!r} already exists in {project.slug}")
    point = fields["control_point"]
    if point not in ControlPoint.values:
        problems.add("control_point", f"{point!r} must be one of {', '.join(ControlPoint.values)}")
    elif point == ControlPoint.GATE:
        if not clean["gate"]:
            problems.add("gate", "control point gate needs the name of a gate in the YAML")
        if clean["stage"]:
            problems.add("stage", "only a check-in or check-out rule names a stage; leave it empty")
    else:
        if not clean["stage"]:
            problems.add("stage", f"control point {point} needs a stage (its id or name)")
        if clean["gate"]:
            problems.add("gate", "only a rule at control point gate names a YAML gate; leave it empty")
    action = fields["action"]
    if action not in FailAction.values:
        problems.add("action", f"{action!r} must be one of {', '.join(FailAction.values)}")
    elif action == FailAction.FAIL and clean["gatekeepers"]:
        problems.add("gatekeepers", "only a rule whose action is block has gatekeepers")
    timeout = fields["timeout_minutes"]
    if isinstance(timeout, bool) or not isinstance(timeout, int) or not 1 <= timeout <= MAX_TIMEOUT_MINUTES:
        problems.add("timeout_minutes", f"must be a whole number of minutes from 1 to {MAX_TIMEOUT_MINUTES}")
    if not isinstance(fields["enabled"], bool):
        problems.add("enabled", "must be true or false")
    problems.raise_any()
    return {
        **clean,
        "control_point": point,
        "action": action,
        "timeout_minutes": timeout,
        "enabled": fields["enabled"],
    }


def _save(rule: QualityRule, clean: dict) -> QualityRule:
    pipelines = clean.pop("pipelines")
    for name, value in clean.items():
        setattr(rule, name, value)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as error:
        raise ValidationFailed(
            f"The quality rule is not valid. name: a rule named {rule.name!r} already exists",
            details={"name": [f"a rule named {rule.name!r} already exists"]},
        ) from error
    rule.pipelines.set(pipelines)
    return rule


@transaction.atomic
def rule_create(
    *,
    project: Project,
    user,
    name: str,
    indicators: list[dict],
    control_point: str = ControlPoint.CHECK_OUT,
    stage: str = "",
    gate: str = "",
    pipelines: list[str] = (),
    action: str = FailAction.FAIL,
    gatekeepers: list[str] = (),
    timeout_minutes: int = DEFAULT_TIMEOUT_MINUTES,
    description: str = "",
    enabled: bool = True,
) -> QualityRule:
    require_role(user, project, Role.MAINTAINER)
    fields = {
        "name": name,
        "indicators": indicators,
        "control_point": control_point,
        "stage": stage,
        "gate": gate,
        "pipelines": pipelines,
        "action": action,
        "gatekeepers": gatekeepers,
        "timeout_minutes": timeout_minutes,
        "description": description,
        "enabled": enabled,
    }
    clean = check_rule(project=project, fields=fields)
    creator = user if getattr(user, "is_authenticated", False) else None
    return _save(QualityRule(project=project, created_by=creator), clean)


@transaction.atomic
def rule_update(
    *,
    rule: QualityRule,
    user,
    name: str | None = None,
    indicators: list[dict] | None = None,
    control_point: str | None = None,
    stage: str | None = None,
    gate: str | None = None,
    pipelines: list[str] | None = None,
    action: str | None = None,
    gatekeepers: list[str] | None = None,
    timeout_minutes: int | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> QualityRule:
    """Change the fields given (None: unchanged); the rule as a whole is checked again."""
    require_role(user, rule.project, Role.MAINTAINER)
    rule = QualityRule.objects.select_for_update().select_related("project").get(pk=rule.pk)
    given = {
        "name": name,
        "indicators": indicators,
        "control_point": control_point,
        "stage": stage,
        "gate": gate,
        "pipelines": pipelines,
        "action": action,
        "gatekeepers": gatekeepers,
        "timeout_minutes": timeout_minutes,
        "description": description,
        "enabled": enabled,
    }
    current = {field: getattr(rule, field) for field in given if field != "pipelines"}
    current["pipelines"] = list(rule.pipelines.values_list("slug", flat=True))
    fields = {field: current[field] if value is None else value for field, value in given.items()}
    clean = check_rule(project=rule.project, fields=fields, rule=rule)
    return _save(rule, clean)


@transaction.atomic
def rule_delete(*, rule: QualityRule, user) -> None:
    """Delete a rule; its past gate checks stay, without the link to it (they keep its name)."""
    require_role(user, rule.project, Role.MAINTAINER)
    rule.delete()
