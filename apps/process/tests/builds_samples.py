"""What the build tests share: a pipeline with every input type and a matrix, a team, clients per
role (`from apps.process.tests.builds_samples import *` brings the fixtures).

Builds are started with the real `build_start`; its follow-up event waits for a commit that a
`django_db` test never makes, so the rows stay as the service wrote them unless a test moves them.
"""

import pytest
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.log.services import log_lines_append
from apps.process import services
from apps.process.services.builds import build_start

__all__ = [
    "PIPELINE_API",
    "PIPELINE_PAGE",
    "RELEASE",
    "RELEASE_INPUTS",
    "ROLES",
    "WRITERS",
    "api_as",
    "pipeline",
    "start",
    "team",
    "users",
    "write_log",
]

RELEASE = """name: release
on:
  push:
  manual:
    inputs:
      target:
        { type: choice, options: [dev, prod], default: dev, required: true, description: Where to deploy }
      version: { type: string, required: true, description: Version to release }
      dry_run: { type: boolean, default: false, description: Only print what would change }
      replicas: { type: number, default: 2 }
      region: { type: environment }
stages:
  - name: Build
    id: build
    jobs:
      compile:
        runs-on: [self-hosted, linux]
        steps:
          - run: echo compile
  - name: Test
    id: test
    jobs:
      test:
        runs-on: [self-hosted]
        strategy:
          matrix:
            py: ["3.11", "3.12"]
        steps:
          - name: unit
            run: echo ${{ matrix.py }}
          - run: echo done
"""
RELEASE_INPUTS = {"version": "1.0"}
ROLES = ["owner", "maintainer", "developer", "viewer", "outsider", "superuser"]
WRITERS = {"owner", "maintainer", "developer", "superuser"}
PIPELINE_API = "/api/v1/projects/acme/pipelines/release"
PIPELINE_PAGE = "/projects/acme/pipelines/release"


@pytest.fixture
def team(db):
    return make_team()


@pytest.fixture
def users(team):
    return team[1]


@pytest.fixture
def pipeline(team):
    project, users = team
    return services.pipeline_create(project=project, user=users["owner"], name="Release", yaml=RELEASE)


@pytest.fixture
def start(pipeline, users):
    """Start a build of the release pipeline as the developer (inputs default to a valid version)."""

    def make(**kwargs):
        kwargs.setdefault("inputs", RELEASE_INPUTS)
        return build_start(pipeline=pipeline, user=users["developer"], **kwargs)

    return make


@pytest.fixture
def api_as(users, pipeline):
    """API clients by role, once the release pipeline exists."""

    def make(role: str) -> APIClient:
        client = APIClient()
        if role != "anonymous":
            client.force_authenticate(users[role])
        return client

    return make


def write_log(job, count: int, *, attempt: int = 1, step: int = 0) -> None:
    lines = [{"seq": seq, "step": step, "text": f"line {seq}"} for seq in range(1, count + 1)]
    log_lines_append(job=job, attempt=attempt, lines=lines)
