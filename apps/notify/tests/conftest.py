"""Fixtures of the notify tests: a team and a pipeline, builds finished by hand (statuses, a failing
step with log lines), a fixed key ring, the SMTP server and HTTP receivers, and Celery run eagerly."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.core.testing import make_team
from apps.log.services import log_lines_append
from apps.notify.tests.servers import HttpReceiver, SmtpServer
from apps.process.models import Build, StepRun
from apps.process.services import pipeline_create
from apps.process.services.builds import build_start
from apps.ticket.crypto import new_key_entry, reset_key_ring
from devops.celery import app

KEY = new_key_entry("n1")
PIPELINE_YAML = """name: app
jobs:
  build:
    runs-on: [linux]
    steps:
      - name: Compile
        run: make
      - name: Test
        run: make test
"""


@pytest.fixture(autouse=True)
def key_ring(settings):
    settings.TICKET_KEYS = KEY
    settings.DEVOPS_BASE_URL = "https://ci.example.test"
    reset_key_ring()
    yield
    reset_key_ring()


@pytest.fixture
def team(db):
    return make_team()


@pytest.fixture
def project(team):
    return team[0]


@pytest.fixture
def users(team):
    return team[1]


@pytest.fixture
def owner(users):
    return users["owner"]


@pytest.fixture
def pipeline(project, owner):
    return pipeline_create(project=project, user=owner, name="App", yaml=PIPELINE_YAML)


@pytest.fixture
def make_pipeline(project, owner):
    def make(name: str, yaml: str):
        return pipeline_create(project=project, user=owner, name=name, yaml=yaml)

    return make


def finish(build: Build, status: str, *, log_lines: int = 30) -> Build:
    """End a build by hand; a failed one gets a failed job whose second step failed after writing
    `log_lines` lines (its first step wrote one line)."""
    now = timezone.now()
    job = build.jobs.get()
    job_status = "failed" if status in ("failed", "timed_out") else status
    if job_status == "failed":
        StepRun.objects.update_or_create(
            job=job,
            job_attempt=1,
            index=0,
            defaults={"name": "Compile", "status": "succeeded", "exit_code": 0},
        )
        StepRun.objects.update_or_create(
            job=job, job_attempt=1, index=1, defaults={"name": "Test", "status": "failed", "exit_code": 2}
        )
        lines = [{"seq": 1, "step": 0, "text": "compiled"}]
        lines += [{"seq": n + 2, "step": 1, "text": f"test line {n + 1}"} for n in range(log_lines)]
        log_lines_append(job=job, attempt=1, lines=lines)
    job.status = job_status
    job.save(update_fields=["status"])
    build.stages.update(status=job_status)
    Build.objects.filter(id=build.id).update(
        status=status, started_at=now - timezone.timedelta(seconds=75), finished_at=now
    )
    build.refresh_from_db()
    return build


@pytest.fixture
def finished_build(pipeline, owner):
    def make(status: str, target_pipeline=None, **options) -> Build:
        return finish(build_start(pipeline=target_pipeline or pipeline, user=owner), status, **options)

    return make


@pytest.fixture
def eager():
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def smtp(settings):
    server = SmtpServer().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", server.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    yield server
    server.stop()


@pytest.fixture
def receiver():
    made = []

    def make(**options) -> HttpReceiver:
        made.append(HttpReceiver(**options))
        return made[-1]

    yield make
    for each in made:
        each.stop()


@pytest.fixture
def client_as(users):
    def make(role: str) -> APIClient:
        client = APIClient()
        client.force_authenticate(users[role])
        return client

    return make
