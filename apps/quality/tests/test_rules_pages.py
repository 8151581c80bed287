"""Quality pages against every role; a maintainer creates and edits a rule through the form; viewers
see no editing control; a rule's page and a build's Quality section list their gate checks."""

import pytest
from django.template import Context, Template
from django.test import Client

from apps.quality.forms import indicator_as_line, indicator_from_line
from apps.quality.models import QualityRule
from apps.quality.tests.rules_samples import make_check, make_rule, make_world

pytestmark = pytest.mark.django_db

ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "superuser", "anonymous"]
BASE = "/projects/acme/quality/"
FORM = {
    "name": "release-ready",
    "description": "Ship only tested code",
    "indicators": 'coverage.line >= 80\r\ntests.failed == 0\r\nlint.clean == true\r\nchannel != "beta build"',
    "pipelines": ["docs"],
    "control_point": "check-in",
    "stage": "deploy",
    "gate": "",
    "action": "block",
    "gatekeepers": "acme-developer, role:owner",
    "timeout_minutes": "45",
    "enabled": "on",
}


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def rule(world):
    return make_rule(world)


def client_for(world, role: str) -> Client:
    client = Client()
    if role != "anonymous":
        client.force_login(world["users"][role])
    return client


def statuses(member, manage):
    return {
        "owner": manage,
        "maintainer": manage,
        "superuser": manage,
        "developer": member,
        "viewer": member,
        "outsider": 404,
        "anonymous": 302,
    }


PAGES = [
    ("get", "", None, statuses(200, 200)),
    ("get", "rules/new/", None, statuses(403, 200)),
    ("post", "rules/new/", FORM, statuses(403, 302)),
    ("get", "rules/{id}/", None, statuses(200, 200)),
    ("get", "rules/{id}/edit/", None, statuses(403, 200)),
    ("post", "rules/{id}/edit/", {**FORM, "name": "coverage"}, statuses(403, 302)),
    ("post", "rules/{id}/delete/", {}, statuses(403, 302)),
]


@pytest.mark.parametrize(
    ("method", "path", "data", "expected"), PAGES, ids=[f"{p[0]} {p[1] or '/'}" for p in PAGES]
)
@pytest.mark.parametrize("role", ROLES)
def test_page_permission_table(world, rule, role, method, path, data, expected):
    response = getattr(client_for(world, role), method)(BASE + path.format(id=rule.id), data)
    assert response.status_code == expected[role], response.content[:500]
    if expected[role] in (403, 404) or role == "anonymous":
        assert QualityRule.objects.get().name == "coverage" and QualityRule.objects.get().stage == "build"


def test_a_maintainer_creates_a_rule_through_the_form(world):
    client = client_for(world, "maintainer")
    form = client.get(BASE + "rules/new/")
    assert b'name="indicators"' in form.content and b'value="docs"' in form.content
    response = client.post(BASE + "rules/new/", FORM)
    rule = QualityRule.objects.get(name="release-ready")
    assert response.status_code == 302 and response["Location"] == f"{BASE}rules/{rule.id}/"
    assert rule.indicators == [
        {"metric": "coverage.line", "operator": ">=", "threshold": 80, "type": "int"},
        {"metric": "tests.failed", "operator": "==", "threshold": 0, "type": "int"},
        {"metric": "lint.clean", "operator": "==", "threshold": True, "type": "bool"},
        {"metric": "channel", "operator": "!=", "threshold": "beta build", "type": "string"},
    ]
    assert [p.slug for p in rule.pipelines.all()] == ["docs"]
    assert (rule.control_point, rule.stage, rule.action, rule.timeout_minutes) == (
        "check-in",
        "deploy",
        "block",
        45,
    )
    assert rule.gatekeepers == ["acme-developer", "role:owner"] and rule.enabled
    assert rule.created_by == world["users"]["maintainer"]
    page = client.get(response["Location"])
    assert b"Quality rule release-ready created." in page.content
    assert b"coverage.line &gt;= 80" in page.content and b"acme-developer, role:owner" in page.content


def test_form_errors_are_shown_on_their_fields_and_nothing_is_saved(world):
    client = client_for(world, "owner")
    bad_line = client.post(BASE + "rules/new/", {**FORM, "indicators": "coverage.line >= 80\ncoverage"})
    assert bad_line.status_code == 400
    assert b"Line 2 (coverage): write it as: metric operator threshold" in bad_line.content
    service = client.post(BASE + "rules/new/", {**FORM, "stage": "", "indicators": "lint.clean > true"})
    assert service.status_code == 400
    assert b"control point check-in needs a stage" in service.content
    assert b"operator &gt; compares numbers; a bool takes == or !=" in service.content
    gatekeepers = client.post(BASE + "rules/new/", {**FORM, "action": "fail"})
    assert b"only a rule whose action is block has gatekeepers" in gatekeepers.content
    assert not QualityRule.objects.exists()


def test_the_edit_form_is_filled_in_and_saves(world, rule):
    client = client_for(world, "owner")
    form = client.get(f"{BASE}rules/{rule.id}/edit/").content.decode()
    assert "coverage.line &gt;= 80.0 as float</textarea>" in form
    assert 'value="build"' in form
    response = client.post(
        f"{BASE}rules/{rule.id}/edit/",
        {**FORM, "name": "coverage", "indicators": "coverage.line >= 75.5 as float", "enabled": ""},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.indicators == [
        {"metric": "coverage.line", "operator": ">=", "threshold": 75.5, "type": "float"}
    ]
    assert (rule.enabled, rule.stage, rule.control_point) == (False, "deploy", "check-in")


def test_viewers_see_no_editing_control(world, rule):
    viewer = client_for(world, "viewer")
    listing = viewer.get(BASE).content.decode()
    assert "coverage" in listing and "never checked" in listing
    assert "New rule" not in listing and f"{BASE}rules/new/" not in listing
    detail = viewer.get(f"{BASE}rules/{rule.id}/").content.decode()
    assert f"rules/{rule.id}/edit/" not in detail and f"rules/{rule.id}/delete/" not in detail
    owner = client_for(world, "owner")
    assert "New rule" in owner.get(BASE).content.decode()
    owner_detail = owner.get(f"{BASE}rules/{rule.id}/").content.decode()
    assert f"rules/{rule.id}/edit/" in owner_detail and f"rules/{rule.id}/delete/" in owner_detail


def test_the_project_page_links_the_quality_page(world):
    assert f'href="{BASE}"' in client_for(world, "viewer").get("/projects/acme/").content.decode()


def test_the_list_shows_the_last_result_and_filters(world, rule):
    make_rule(world, name="gatekeeping", control_point="gate", stage="", gate="release", pipelines=["docs"])
    make_check(world["build"], rule, result="blocked")
    viewer = client_for(world, "viewer")
    page = viewer.get(BASE).content.decode()
    assert "status-blocked" in page and ">blocked</span>" in page
    filtered = viewer.get(BASE + "?control_point=gate").content.decode()
    assert "gatekeeping" in filtered and f"rules/{rule.id}/" not in filtered


def test_the_rule_page_lists_its_checks(world, rule):
    make_check(world["build"], rule, stage_index=1, result="passed", indicators=[])
    make_check(
        world["build"],
        rule,
        result="overridden",
        decided_by=world["users"]["maintainer"],
        comment="known flaky coverage",
    )
    make_check(world["build"], None, gate_name="yaml-only-gate")
    page = client_for(world, "viewer").get(f"{BASE}rules/{rule.id}/").content.decode()
    assert 'href="/projects/acme/pipelines/app/builds/1/"' in page
    assert "Ship it" in page and "Build" in page
    assert "<code>coverage.line</code> = <strong>72.5</strong>" in page
    assert "known flaky coverage" in page and "acme-maintainer" in page
    assert ">Overridden</span>" in page and ">Passed</span>" in page
    assert "yaml-only-gate" not in page
    only_passed = client_for(world, "viewer").get(f"{BASE}rules/{rule.id}/?result=passed").content.decode()
    assert ">Passed</span>" in only_passed and "known flaky coverage" not in only_passed


def test_the_build_quality_section(world, rule):
    make_check(
        world["build"],
        None,
        gate_name="inline-gate",
        control_point="check-in",
        indicators=[
            {"metric": "tests.failed", "operator": "==", "threshold": 0, "value": None, "passed": False}
        ],
        reason="gate inline-gate: tests.failed not reported (wanted tests.failed == 0)",
    )
    make_check(world["build"], rule, stage_index=1, result="blocked", gatekeepers=["role:maintainer"])
    html = Template("{% load quality_tags %}{% build_gate_checks build %}").render(
        Context({"build": world["build"]})
    )
    assert "<h2>Quality</h2>" in html
    assert "inline-gate" in html and "YAML" in html and "not reported" in html
    assert f'href="{BASE}rules/{rule.id}/"' in html
    assert "may override: role:maintainer" in html and "Ship it" in html
    empty = make_world("empty")["build"]
    tag = Template("{% load quality_tags %}{% build_gate_checks build %}")
    rendered = tag.render(Context({"build": empty}))
    assert "Quality" not in rendered  # a build no gate checked shows no empty section


@pytest.mark.parametrize(
    ("line", "indicator"),
    [
        ("coverage.line >= 80", ("coverage.line", ">=", "80", "int")),
        ("coverage.line>=80.5", ("coverage.line", ">=", "80.5", "float")),
        ("lint.clean == TRUE", ("lint.clean", "==", "TRUE", "bool")),
        ("branch != main", ("branch", "!=", "main", "string")),
        ('branch == "80"', ("branch", "==", "80", "string")),
        ("size < 10 as float", ("size", "<", "10", "float")),
        ("name == a as b", ("name", "==", "a as b", "string")),
    ],
)
def test_indicator_lines(line, indicator):
    parsed = indicator_from_line(line)
    assert (parsed["metric"], parsed["operator"], parsed["threshold"], parsed["type"]) == indicator


@pytest.mark.parametrize("line", ["coverage", "coverage >=", ">= 80", "a b == 1"])
def test_lines_that_are_not_indicators(line):
    with pytest.raises(ValueError):
        indicator_from_line(line)


@pytest.mark.parametrize(
    "indicator",
    [
        {"metric": "m", "operator": "==", "threshold": True, "type": "bool"},
        {"metric": "m", "operator": "==", "threshold": " padded ", "type": "string"},
        {"metric": "m", "operator": "!=", "threshold": "", "type": "string"},
        {"metric": "m", "operator": "<=", "threshold": 3, "type": "int"},
    ],
)
def test_indicator_lines_round_trip(indicator):
    parsed = indicator_from_line(indicator_as_line(indicator))
    expected = "true" if indicator["threshold"] is True else str(indicator["threshold"])
    assert parsed == {**indicator, "threshold": expected}
