"""The local agent that `serve` attaches to the server on the embedded default, and the demo
project it builds first."""
import json
import platform
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model

from apps.core.models import Project
from apps.core.services import project_create
from apps.environment.models import Agent
from apps.environment.services import agent_create
from apps.process.models import Build
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from devops.embedded import start_local_agent

LOCAL_AGENT_NAME = "local"
DEMO_PIPELINE = """\
name: hello
on: [push, manual]
jobs:
  greet:
    runs-on: [self-hosted]
    steps:
      - run: echo "Hello from build ${{ ci.build_number }} on ${{ runner.os }}"
      - run: python3 --version
"""


def administrator():
    return get_user_model().objects.filter(is_superuser=True).order_by("id").first()


def local_agent_home() -> Path:
    return Path(settings.VAR_DIR) / "local-agent"


def local_agent_credentials(admin) -> tuple[int, str]:
    """The local agent's id and secret, created once and kept in var/local-agent/agent.json."""
    config = local_agent_home() / "agent.json"
    if config.exists():
        saved = json.loads(config.read_text())
        if Agent.objects.filter(id=saved.get("agent_id")).exists():
            return int(saved["agent_id"]), saved["secret"]
    labels = ["self-hosted", "local", platform.system().lower()]
    agent, secret = agent_create(project=None, user=admin, name=LOCAL_AGENT_NAME, labels=labels, slots=2)
    return agent.id, secret


def start_attached_agent(*, url: str):
    admin = administrator()
    if admin is None:
        raise RuntimeError("create the administrator first: manage.py ensure_admin")
    agent_id, secret = local_agent_credentials(admin)
    return start_local_agent(url=url, agent_id=agent_id, secret=secret, home=local_agent_home(), quiet=True)


def ensure_demo_project() -> Build | None:
    """Create the demo project and run its pipeline once, the first time only."""
    admin = administrator()
    if admin is None or Project.objects.filter(slug="demo").exists():
        return None
    project = project_create(user=admin, slug="demo", name="Demo")
    pipeline = pipeline_create(project=project, user=admin, name="hello", slug="hello", yaml=DEMO_PIPELINE)
    return build_start(pipeline=pipeline, user=admin)
