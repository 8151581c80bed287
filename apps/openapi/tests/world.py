"""A project with one of everything the API can address, and the values of every path parameter."""

from apps.core.testing import make_team
from apps.environment import services as environment
from apps.openapi import services as tokens
from apps.openapi.webhooks.services import webhook_settings_update
from apps.process import services
from apps.process.services.builds import build_start
from apps.quality.rules import rule_create as quality_rule_create

PIPELINE_YAML = """name: app
on:
  push:
  remote: enabled
jobs:
  build:
    runs-on: [linux]
    steps:
      - run: make
"""


def build_world(slug: str = "acme") -> dict:
    project, users = make_team(slug)
    owner = users["owner"]
    pipeline = services.pipeline_create(project=project, user=owner, name="App", yaml=PIPELINE_YAML)
    build = build_start(pipeline=pipeline, user=owner)
    group = environment.node_group_create(project=project, user=owner, name="linux")
    agent, _ = environment.agent_create(project=project, user=owner, name="box", labels=["linux"])
    registration, _ = environment.registration_token_create(project=project, user=owner, labels=["linux"])
    personal, _ = tokens.token_create(user=owner, name="mine", scopes=["read"])
    bot, _ = tokens.project_token_create(project=project, user=owner, name="ci", scopes=["read"])
    webhook_settings_update(pipeline=pipeline, user=owner)
    indicators = [{"metric": "coverage.line", "operator": ">=", "threshold": 80, "type": "float"}]
    rule = quality_rule_create(project=project, user=owner, name="cov", indicators=indicators, stage="build")
    job = build.jobs.first()
    params = {
        "project_slug": project.slug,
        "pipeline_slug": pipeline.slug,
        "build_number": str(build.number),
        "number": "1",
        "key": job.key,
        "username": users["viewer"].username,
    }
    ids = {
        "agents": agent.id,
        "node-groups": group.id,
        "registration-tokens": registration.id,
        "tokens": bot.id,
        "api-tokens": personal.id,
        "quality-rules": rule.id,
    }
    return {"project": project, "users": users, "pipeline": pipeline, "params": params, "ids": ids}


def fill_path(template: str, world: dict) -> str:
    """The schema's path with real values: `{slug}` is the project or the pipeline by position."""
    parts = []
    previous = ""
    for part in template.strip("/").split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            if name == "slug":
                value = world["project"].slug if previous == "projects" else world["pipeline"].slug
            elif name in ("pk", "id"):
                key = "api-tokens" if template.startswith("/api/v1/tokens/") else previous
                value = str(world["ids"].get(key, 1))
            else:
                value = world["params"].get(name, "1")
            parts.append(value)
        else:
            parts.append(part)
        previous = part
    return "/" + "/".join(parts) + "/"
