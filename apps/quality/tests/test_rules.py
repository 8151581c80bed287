"""Quality rule services: every refusal names its field with a message a user can act on, nothing is
written when a rule is refused, thresholds are stored as values of their type, only maintainers and
owners write, and a stored rule is what the engine's gate decisions evaluate."""

import pytest

from apps.core.errors import NotFound, PermissionDenied, ValidationFailed
from apps.process.engine.gates import evaluate_gate
from apps.quality.models import GateCheck, QualityRule
from apps.quality.rules import rule_create, rule_delete, rule_update
from apps.quality.selectors import pipeline_rules, rule_as_gate
from apps.quality.tests.rules_samples import COVERAGE, make_check, make_rule, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    return make_world()


def indicator(**fields) -> list[dict]:
    return [{**COVERAGE, **fields}]


def without(key: str) -> list[dict]:
    return [{name: value for name, value in COVERAGE.items() if name != key}]


REFUSALS = [
    ("empty name", {"name": "  "}, "name", "is required"),
    ("long name", {"name": "x" * 101}, "name", "longer than 100"),
    ("duplicate name", {"name": "existing"}, "name", "a rule named 'existing' already exists in acme"),
    ("no indicator", {"indicators": []}, "indicators", "at least one indicator"),
    ("indicators not a list", {"indicators": "coverage.line >= 80"}, "indicators", "at least one indicator"),
    ("indicator not an object", {"indicators": ["coverage.line >= 80"]}, "indicators", "must be an object"),
    ("unknown indicator key", {"indicators": indicator(unit="%")}, "indicators", "unknown key 'unit'"),
    ("metric starts with a digit", {"indicators": indicator(metric="1cov")}, "indicators", "metric '1cov'"),
    ("metric with a space", {"indicators": indicator(metric="cov line")}, "indicators", "metric 'cov line'"),
    ("unknown operator", {"indicators": indicator(operator="=>")}, "indicators", "operator '=>' must be"),
    ("unknown type", {"indicators": indicator(type="number")}, "indicators", "type 'number' must be one"),
    ("missing threshold", {"indicators": without("threshold")}, "indicators", "threshold is missing"),
    (
        "int with decimals",
        {"indicators": indicator(type="int", threshold="8.5")},
        "indicators",
        "whole number",
    ),
    ("int given a float", {"indicators": indicator(type="int", threshold=8.5)}, "indicators", "whole number"),
    ("int given a bool", {"indicators": indicator(type="int", threshold=True)}, "indicators", "not a number"),
    ("float given text", {"indicators": indicator(threshold="abc")}, "indicators", "'abc' is not a number"),
    ("float given nan", {"indicators": indicator(threshold="nan")}, "indicators", "not a number"),
    (
        "float infinite",
        {"indicators": indicator(threshold=float("inf"))},
        "indicators",
        "not a finite number",
    ),
    (
        "bool given yes",
        {"indicators": indicator(type="bool", operator="==", threshold="yes")},
        "indicators",
        "not true or false",
    ),
    (
        "bool ordered",
        {"indicators": indicator(type="bool", threshold=True)},
        "indicators",
        "compares numbers",
    ),
    (
        "string ordered",
        {"indicators": indicator(type="string", operator="<", threshold="b")},
        "indicators",
        "a string takes == or !=",
    ),
    (
        "string given a list",
        {"indicators": indicator(type="string", operator="==", threshold=["a"])},
        "indicators",
        "not text",
    ),
    ("unknown control point", {"control_point": "middle"}, "control_point", "'middle' must be one of"),
    ("check-in without stage", {"control_point": "check-in", "stage": ""}, "stage", "needs a stage"),
    ("check-out without stage", {"stage": ""}, "stage", "control point check-out needs a stage"),
    ("gate without its name", {"control_point": "gate", "stage": ""}, "gate", "needs the name of a gate"),
    ("gate with a stage", {"control_point": "gate", "gate": "coverage"}, "stage", "leave it empty"),
    ("check-out with a gate", {"gate": "coverage"}, "gate", "leave it empty"),
    ("unknown action", {"action": "warn"}, "action", "'warn' must be one of"),
    ("fail with gatekeepers", {"gatekeepers": ["role:owner"]}, "gatekeepers", "action is block"),
    ("unknown role", {"action": "block", "gatekeepers": ["role:admin"]}, "gatekeepers", "role:<viewer|"),
    ("unknown user", {"action": "block", "gatekeepers": ["nobody"]}, "gatekeepers", "not a member of acme"),
    ("outsider", {"action": "block", "gatekeepers": ["acme-outsider"]}, "gatekeepers", "not a member"),
    ("gatekeepers not a list", {"action": "block", "gatekeepers": "alice"}, "gatekeepers", "must be a list"),
    ("unknown pipeline", {"pipelines": ["nope"]}, "pipelines", "no pipeline 'nope' in project acme"),
    ("pipelines not a list", {"pipelines": "app"}, "pipelines", "must be a list of pipeline slugs"),
    ("zero timeout", {"timeout_minutes": 0}, "timeout_minutes", "from 1 to"),
    ("timeout as text", {"timeout_minutes": "10"}, "timeout_minutes", "whole number of minutes"),
    ("enabled as text", {"enabled": "yes"}, "enabled", "must be true or false"),
]


@pytest.mark.parametrize(
    ("fields", "field", "phrase"), [case[1:] for case in REFUSALS], ids=[c[0] for c in REFUSALS]
)
def test_refusals_name_the_field_and_write_nothing(world, fields, field, phrase):
    make_rule(world, name="existing")
    with pytest.raises(ValidationFailed) as refused:
        make_rule(world, **fields)
    details = refused.value.details
    assert field in details, details
    assert any(phrase in message for message in details[field]), details[field]
    assert f"{field}: " in refused.value.message and phrase in refused.value.message
    assert list(QualityRule.objects.values_list("name", flat=True)) == ["existing"]


def test_every_problem_is_reported_at_once(world):
    with pytest.raises(ValidationFailed) as refused:
        make_rule(world, name="", indicators=[indicator(metric="1x")[0], {"metric": "ok"}], action="warn")
    details = refused.value.details
    assert set(details) == {"name", "indicators", "action"}
    assert details["indicators"][0].startswith("indicator 1 (1x): metric '1x'")
    assert details["indicators"][1].startswith("indicator 2 (ok): operator None")


THRESHOLDS = [
    ("int", ">=", "80", 80),
    ("int", ">=", 80.0, 80),
    ("int", "<", " -3 ", -3),
    ("float", ">=", "87.5", 87.5),
    ("float", ">", 80, 80.0),
    ("float", "<=", "1e3", 1000.0),
    ("bool", "==", "TRUE", True),
    ("bool", "!=", False, False),
    ("string", "==", "main", "main"),
    ("string", "!=", 3, "3"),
    ("string", "==", "", ""),
]


@pytest.mark.parametrize(("kind", "operator", "given", "stored"), THRESHOLDS)
def test_thresholds_are_stored_as_values_of_their_type(world, kind, operator, given, stored):
    rule = make_rule(world, indicators=indicator(type=kind, operator=operator, threshold=given))
    saved = QualityRule.objects.get(pk=rule.pk).indicators[0]
    assert saved == {"metric": "coverage.line", "operator": operator, "threshold": stored, "type": kind}
    assert type(saved["threshold"]) is type(stored)


def test_indicator_type_defaults_to_float(world):
    rule = make_rule(world, indicators=without("type"))
    assert rule.indicators == [{**COVERAGE, "threshold": 80.0}]


def test_a_blocking_gate_rule_with_gatekeepers_and_pipelines(world):
    rule = make_rule(
        world,
        name="lint",
        control_point="gate",
        stage="",
        gate="quality",
        action="block",
        gatekeepers=[" acme-developer ", "role:maintainer", "acme-developer"],
        pipelines=["app", "app"],
        timeout_minutes=30,
        description="  no lint errors  ",
    )
    rule.refresh_from_db()
    assert rule.gatekeepers == ["acme-developer", "role:maintainer"]
    assert [p.slug for p in rule.pipelines.all()] == ["app"]
    assert (rule.gate, rule.stage, rule.timeout_minutes, rule.description) == (
        "quality",
        "",
        30,
        "no lint errors",
    )
    assert rule.created_by == world["users"]["owner"]


def test_blocking_without_gatekeepers_is_allowed(world):
    rule = make_rule(world, action="block")
    assert rule.gatekeepers == [] and rule.action == "block"


@pytest.mark.parametrize("role", ["developer", "viewer"])
def test_members_below_maintainer_may_not_write(world, role):
    user = world["users"][role]
    with pytest.raises(PermissionDenied):
        rule_create(project=world["project"], user=user, name="x", indicators=[COVERAGE], stage="build")
    rule = make_rule(world)
    with pytest.raises(PermissionDenied):
        rule_update(rule=rule, user=user, enabled=False)
    with pytest.raises(PermissionDenied):
        rule_delete(rule=rule, user=user)
    assert QualityRule.objects.get().enabled is True


def test_outsiders_are_told_the_project_does_not_exist(world):
    with pytest.raises(NotFound):
        rule_create(
            project=world["project"],
            user=world["users"]["outsider"],
            name="x",
            indicators=[COVERAGE],
            stage="b",
        )


@pytest.mark.parametrize("role", ["maintainer", "superuser"])
def test_maintainers_and_superusers_write(world, role):
    rule = rule_create(
        project=world["project"], user=world["users"][role], name="x", indicators=[COVERAGE], stage="build"
    )
    assert rule_update(rule=rule, user=world["users"][role], enabled=False).enabled is False


def test_update_changes_only_what_is_given_and_checks_the_whole_rule(world):
    rule = make_rule(world, pipelines=["app"], description="keep me")
    updated = rule_update(rule=rule, user=world["users"]["maintainer"], action="block", name="coverage")
    updated.refresh_from_db()
    assert (updated.action, updated.description, updated.stage) == ("block", "keep me", "build")
    assert [p.slug for p in updated.pipelines.all()] == ["app"]
    with pytest.raises(ValidationFailed) as refused:
        rule_update(rule=rule, user=world["users"]["owner"], control_point="gate")
    assert set(refused.value.details) == {"gate", "stage"}
    moved = rule_update(rule=rule, user=world["users"]["owner"], control_point="gate", stage="", gate="cov")
    assert (moved.control_point, moved.gate) == ("gate", "cov")
    cleared = rule_update(rule=rule, user=world["users"]["owner"], pipelines=[])
    assert list(cleared.pipelines.all()) == []


def test_update_refuses_the_name_of_another_rule(world):
    make_rule(world, name="other")
    rule = make_rule(world)
    with pytest.raises(ValidationFailed) as refused:
        rule_update(rule=rule, user=world["users"]["owner"], name="other")
    assert "already exists" in refused.value.details["name"][0]


def test_delete_keeps_the_checks_on_their_builds(world):
    rule = make_rule(world)
    check = make_check(world["build"], rule)
    rule_delete(rule=rule, user=world["users"]["maintainer"])
    check.refresh_from_db()
    assert QualityRule.objects.count() == 0
    assert (check.rule, check.gate_name) == (None, "coverage")
    assert GateCheck.objects.count() == 1


def test_a_stored_rule_is_what_the_engine_evaluates(world):
    rule = make_rule(
        world,
        pipelines=["app"],
        indicators=[
            COVERAGE,
            {"metric": "lint.clean", "operator": "==", "threshold": "true", "type": "bool"},
            {"metric": "branch", "operator": "!=", "threshold": "wip", "type": "string"},
        ],
    )
    gates = pipeline_rules(project_id=world["project"].id, pipeline_id=world["pipeline"].id)
    assert gates == [rule_as_gate(rule)]
    assert pipeline_rules(project_id=world["project"].id, pipeline_id=world["other"].id) == []
    good = evaluate_gate(gates[0], {"coverage.line": 85.5, "lint.clean": True, "branch": "main"})
    assert good.passed
    bad = evaluate_gate(gates[0], {"coverage.line": "72", "lint.clean": "false"})
    assert not bad.passed
    assert [item["passed"] for item in bad.indicators] == [False, False, False]
    assert "branch not reported" in bad.reason
