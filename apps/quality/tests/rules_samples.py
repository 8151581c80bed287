"""What the quality rule tests share: a team with a two-stage pipeline and a build, rules made
through the service, and gate checks written directly as the engine would write them."""

from apps.core.testing import make_team
from apps.process import services as process
from apps.process.services.builds import build_start
from apps.quality.models import GateCheck
from apps.quality.rules import rule_create

PIPELINE_YAML = """name: app
stages:
  - name: Build
    id: build
    jobs:
      compile:
        runs-on: [linux]
        steps:
          - run: make
  - name: Ship it
    id: deploy
    jobs:
      push:
        runs-on: [linux]
        steps:
          - run: make deploy
"""

COVERAGE = {"metric": "coverage.line", "operator": ">=", "threshold": 80, "type": "float"}


def make_world(slug: str = "acme") -> dict:
    project, users = make_team(slug)
    owner = users["owner"]
    pipeline = process.pipeline_create(project=project, user=owner, name="App", yaml=PIPELINE_YAML)
    other = process.pipeline_create(project=project, user=owner, name="Docs", yaml=PIPELINE_YAML)
    build = build_start(pipeline=pipeline, user=owner)
    return {"project": project, "users": users, "pipeline": pipeline, "other": other, "build": build}


def make_rule(world: dict, **fields):
    values = {"name": "coverage", "indicators": [COVERAGE], "stage": "build"}
    values.update(fields)
    return rule_create(project=world["project"], user=world["users"]["owner"], **values)


def make_check(build, rule=None, **fields) -> GateCheck:
    values = {
        "build": build,
        "build_attempt": 1,
        "stage_index": 0,
        "control_point": "check-out",
        "rule": rule,
        "gate_name": rule.name if rule else "yaml-gate",
        "indicators": [{**COVERAGE, "value": 72.5, "passed": False, "reason": "coverage.line is 72.5"}],
        "result": "failed",
        "reason": "gate coverage: coverage.line is 72.5 (wanted coverage.line >= 80)",
    }
    values.update(fields)
    return GateCheck.objects.create(**values)
