"""The quality rule API against every role, its validation errors, token scopes, and the listing of
gate checks per rule (cursor pages, newest first) and per build."""

import pytest
from rest_framework.test import APIClient

from apps.openapi import services as tokens
from apps.openapi.tests.helpers import bearer, personal_token
from apps.process.services.builds import build_start
from apps.quality.models import QualityRule
from apps.quality.tests.rules_samples import COVERAGE, make_check, make_rule, make_world

pytestmark = pytest.mark.django_db

ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "superuser", "anonymous"]
BASE = "/api/v1/projects/acme/quality-rules/"
BUILD = "/api/v1/projects/acme/pipelines/app/builds/1/gate-checks/"
NEW_RULE = {"name": "new", "indicators": [COVERAGE], "stage": "deploy"}


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture
def rule(world):
    return make_rule(world)


def client_for(world, role: str) -> APIClient:
    client = APIClient()
    if role != "anonymous":
        client.force_authenticate(world["users"][role])
    return client


def expect(member, *, manage=None):
    manage = member if manage is None else manage
    return {
        "owner": manage,
        "maintainer": manage,
        "superuser": manage,
        "developer": member,
        "viewer": member,
        "outsider": 404,
        "anonymous": 403,
    }


CASES = [
    ("get", "", None, expect(200)),
    ("get", "{id}/", None, expect(200)),
    ("get", "{id}/checks/", None, expect(200)),
    ("post", "", NEW_RULE, expect(403, manage=201)),
    ("patch", "{id}/", {"enabled": False}, expect(403, manage=200)),
    ("put", "{id}/", {"name": "renamed", "indicators": [COVERAGE]}, expect(403, manage=200)),
    ("delete", "{id}/", None, expect(403, manage=204)),
    ("get", BUILD, None, expect(200)),
]


@pytest.mark.parametrize(("method", "path", "body", "statuses"), CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
@pytest.mark.parametrize("role", ROLES)
def test_permission_table(world, rule, role, method, path, body, statuses):
    url = path if path.startswith("/") else BASE + path.format(id=rule.id)
    response = getattr(client_for(world, role), method)(url, body, format="json")
    assert response.status_code == statuses[role], response.content
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message", "details"}
    if statuses[role] == 403 and role != "anonymous":
        assert QualityRule.objects.get(pk=rule.pk).enabled is True
        assert not QualityRule.objects.filter(name__in=["new", "renamed"]).exists()


def test_create_answers_the_stored_rule(world):
    body = {
        **NEW_RULE,
        "indicators": [
            {"metric": "tests.failed", "operator": "==", "threshold": "0", "type": "int"},
            {"metric": "lint.clean", "operator": "==", "threshold": True, "type": "bool"},
        ],
        "pipelines": ["docs"],
        "action": "block",
        "gatekeepers": ["acme-viewer", "role:owner"],
        "timeout_minutes": 15,
    }
    response = client_for(world, "maintainer").post(BASE, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["indicators"][0] == {
        "metric": "tests.failed",
        "operator": "==",
        "threshold": 0,
        "type": "int",
    }
    assert data["indicators"][1]["threshold"] is True
    assert (data["pipelines"], data["gatekeepers"], data["timeout_minutes"]) == (
        ["docs"],
        body["gatekeepers"],
        15,
    )
    assert (data["control_point"], data["stage"], data["action"], data["enabled"]) == (
        "check-out",
        "deploy",
        "block",
        True,
    )
    assert (data["created_by"], data["last_result"], data["last_checked_at"]) == (
        "acme-maintainer",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("body", "field", "phrase"),
    [
        ({**NEW_RULE, "indicators": [{**COVERAGE, "type": "bool"}]}, "indicators", "compares numbers"),
        ({**NEW_RULE, "indicators": [{**COVERAGE, "threshold": "high"}]}, "indicators", "not a number"),
        ({**NEW_RULE, "stage": ""}, "stage", "needs a stage"),
        ({**NEW_RULE, "control_point": "gate", "stage": ""}, "gate", "needs the name of a gate"),
        ({**NEW_RULE, "gatekeepers": ["nobody"], "action": "block"}, "gatekeepers", "not a member"),
        ({**NEW_RULE, "pipelines": ["missing"]}, "pipelines", "no pipeline 'missing'"),
        ({**NEW_RULE, "name": "coverage"}, "name", "already exists"),
        ({"indicators": [COVERAGE], "stage": "b"}, "name", "required"),
        ({**NEW_RULE, "indicators": []}, "indicators", ""),
        ({**NEW_RULE, "indicators": [{**COVERAGE, "operator": "=~"}]}, "indicators", ""),
    ],
)
def test_refusals_are_400_naming_the_field(world, rule, body, field, phrase):
    response = client_for(world, "owner").post(BASE, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert field in error["details"], error
    assert phrase in str(error["details"][field])
    assert QualityRule.objects.count() == 1


def test_patch_keeps_what_it_does_not_name_and_revalidates(world, rule):
    owner = client_for(world, "owner")
    response = owner.patch(f"{BASE}{rule.id}/", {"action": "block", "pipelines": ["app"]}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["action"], response.json()["pipelines"], response.json()["stage"]) == (
        "block",
        ["app"],
        "build",
    )
    refused = owner.patch(f"{BASE}{rule.id}/", {"control_point": "gate"}, format="json")
    assert refused.status_code == 400 and {"gate", "stage"} <= set(refused.json()["error"]["details"])


def test_rules_of_another_project_are_not_found(world, rule):
    other = make_world("other")
    foreign = make_rule(other)
    owner = client_for(world, "owner")
    assert owner.get(f"{BASE}{foreign.id}/").status_code == 404
    assert owner.get(f"{BASE}{foreign.id}/checks/").status_code == 404
    assert owner.delete(f"{BASE}{foreign.id}/").status_code == 404
    assert owner.get(f"{BASE}abc/").status_code == 404
    assert QualityRule.objects.filter(pk=foreign.pk).exists()


def test_list_filters_and_last_result(world, rule):
    make_rule(world, name="docs-only", pipelines=["docs"], enabled=False)
    make_check(world["build"], rule, result="passed")
    make_check(world["build"], rule, result="blocked")
    viewer = client_for(world, "viewer")
    rows = viewer.get(BASE).json()["results"]
    assert [(row["name"], row["last_result"]) for row in rows] == [
        ("coverage", "blocked"),
        ("docs-only", None),
    ]
    assert [row["name"] for row in viewer.get(BASE + "?pipeline=app").json()["results"]] == ["coverage"]
    assert [row["name"] for row in viewer.get(BASE + "?pipeline=docs").json()["results"]] == [
        "coverage",
        "docs-only",
    ]
    assert [row["name"] for row in viewer.get(BASE + "?enabled=false").json()["results"]] == ["docs-only"]


def test_checks_of_a_rule_newest_first_in_cursor_pages(world, rule):
    second = build_start(pipeline=world["pipeline"], user=world["users"]["owner"])
    made = [make_check(world["build"], rule, result="failed")]
    made.append(
        make_check(second, rule, stage_index=1, result="passed", indicators=[{**COVERAGE, "value": 91}])
    )
    made.append(
        make_check(
            second,
            rule,
            stage_index=1,
            build_attempt=2,
            result="overridden",
            decided_by=world["users"]["maintainer"],
            comment="hotfix",
        )
    )
    make_check(world["build"], None, gate_name="yaml-only")
    viewer = client_for(world, "viewer")
    first = viewer.get(f"{BASE}{rule.id}/checks/?page_size=2").json()
    assert [row["id"] for row in first["results"]] == [made[2].id, made[1].id]
    newest = first["results"][0]
    assert newest["build_number"] == 2 and newest["pipeline"] == "app" and newest["build_attempt"] == 2
    assert (newest["stage"], newest["stage_index"], newest["result"]) == ("Ship it", 1, "overridden")
    assert (newest["decided_by"], newest["comment"], newest["rule"]) == ("acme-maintainer", "hotfix", rule.id)
    rest = viewer.get(first["next"]).json()
    assert [row["id"] for row in rest["results"]] == [made[0].id] and rest["next"] is None
    assert rest["results"][0]["stage"] == "Build"
    assert rest["results"][0]["indicators"][0]["value"] == 72.5
    failed = viewer.get(f"{BASE}{rule.id}/checks/?result=failed").json()["results"]
    assert [row["id"] for row in failed] == [made[0].id]


def test_gate_checks_of_a_build(world, rule):
    second = build_start(pipeline=world["pipeline"], user=world["users"]["owner"])
    yaml_check = make_check(world["build"], None, gate_name="coverage-yaml", control_point="check-in")
    rule_check = make_check(world["build"], rule, stage_index=1, result="blocked", gatekeepers=["role:owner"])
    retried = make_check(world["build"], rule, stage_index=1, build_attempt=2, result="passed")
    make_check(second, rule)
    viewer = client_for(world, "viewer")
    rows = viewer.get(BUILD).json()
    assert [row["id"] for row in rows] == [yaml_check.id, rule_check.id, retried.id]
    assert (rows[0]["rule"], rows[0]["gate_name"], rows[0]["stage"]) == (None, "coverage-yaml", "Build")
    assert rows[1]["gatekeepers"] == ["role:owner"] and rows[1]["stage"] == "Ship it"
    assert [row["id"] for row in viewer.get(BUILD + "?attempt=2").json()] == [retried.id]
    assert viewer.get("/api/v1/projects/acme/pipelines/app/builds/99/gate-checks/").status_code == 404
    assert viewer.get("/api/v1/projects/acme/pipelines/nope/builds/1/gate-checks/").status_code == 404


def test_token_scopes(world, rule):
    owner = world["users"]["owner"]
    reader = bearer(personal_token(owner, ["read"]))
    assert reader.get(BASE).status_code == 200
    assert reader.get(f"{BASE}{rule.id}/checks/").status_code == 200
    assert reader.get(BUILD).status_code == 200
    refused = reader.post(BASE, NEW_RULE, format="json")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "insufficient_scope"
    assert refused.json()["error"]["details"]["required_scope"] == "write"
    trigger = bearer(personal_token(owner, ["trigger"]))
    assert trigger.delete(f"{BASE}{rule.id}/").json()["error"]["details"]["required_scope"] == "write"
    writer = bearer(personal_token(owner, ["write"]))
    assert writer.post(BASE, NEW_RULE, format="json").status_code == 201
    assert writer.patch(f"{BASE}{rule.id}/", {"enabled": False}, format="json").status_code == 200
    # A token never gets more than its user's role: a viewer's write token still cannot write.
    # The bot of another project is told acme does not exist.
    viewer = bearer(personal_token(world["users"]["viewer"], ["write"]))
    assert viewer.get(BASE).status_code == 200
    assert viewer.post(BASE, {**NEW_RULE, "name": "v"}, format="json").status_code == 403
    other = make_world("other")
    bot = tokens.project_token_create(
        project=other["project"], user=other["users"]["owner"], name="b", scopes=["admin"]
    )
    assert bearer(bot[1]).get(BASE).status_code == 404
    assert bearer(bot[1]).get(BUILD).status_code == 404
