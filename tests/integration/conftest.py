"""Fixtures of the integration tests: a project and its owner in the test database, and a `cluster`
of real processes (tests/integration/harness.py) that is always torn down, even on failure."""

import pytest
from django.contrib.auth import get_user_model

from apps.core.services import project_create
from apps.process.services import pipeline_create
from devops.celery import app
from tests.integration import harness

if harness.redis_url():
    app.conf.broker_transport_options = {"global_keyprefix": harness.broker_key_prefix()}


@pytest.fixture(scope="session", autouse=True)
def broker_namespace():
    """With REDIS_URL, this pytest process's broker keys are removed when the session ends."""
    yield
    if harness.redis_url():
        harness.purge_broker(harness.broker_key_prefix(), bindings=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def owner(transactional_db):
    return get_user_model().objects.create_superuser(username="owner", email="", password=None)


@pytest.fixture
def project(owner):
    return project_create(user=owner, slug="it", name="Integration")


@pytest.fixture
def make_pipeline(project, owner):
    def make(name: str, yaml: str):
        return pipeline_create(project=project, user=owner, name=name, yaml=yaml)

    return make


@pytest.fixture
def eager_events():
    """On the embedded default the test process has no worker: its own events run in place."""
    if harness.redis_url():
        yield
        return
    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture
def cluster(request, transactional_db, project, owner, tmp_path, eager_events):
    cluster = harness.Cluster(tmp=tmp_path, project=project, user=owner)
    try:
        yield cluster
    finally:
        cluster.close()
        report = getattr(request.node, "report_call", None)
        if report is None or report.failed:
            print(cluster.logs())
