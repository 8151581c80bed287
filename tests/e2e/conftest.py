"""Fixtures of the browser tests: the app served over ASGI by uvicorn in a thread of this process, the
engine's Celery worker in another thread, a real local agent, and headless Chromium (Debian's, driven
by Playwright) signed in as a user.

Everything runs against the test database pytest-django created, so the tests use
`django_db(transaction=True)`: the server thread, the worker and the agent see committed rows only.
With REDIS_URL the broker is Redis: this process's broker keys get their own prefix, so a parallel
pytest process's worker never takes our events (tests/integration uses the same rule).
"""

import gc
import os
import threading
from pathlib import Path

import pytest
from celery.contrib.testing.worker import TestWorkController
from celery.worker import state as worker_state
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connections
from django.test import override_settings
from playwright.sync_api import sync_playwright

from apps.environment.services import agent_create
from devops.celery import app
from devops.embedded import ServerThread, start_local_agent, stop_process_group

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "test-output" / "e2e"
PASSWORD = "correct-horse-battery"
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"


BROKER_PREFIX = f"devops-e2e-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-{os.getpid()}:"


def claim_broker_namespace() -> None:
    """Give this process's broker keys a prefix of their own, unless another harness of this process
    (tests/integration) already did: the test process and its workers must agree on one."""
    options = dict(app.conf.broker_transport_options or {})
    if str(os.getpid()) not in options.get("global_keyprefix", ""):
        app.conf.broker_transport_options = {**options, "global_keyprefix": BROKER_PREFIX}


if settings.REDIS_URL:
    claim_broker_namespace()


def pytest_sessionfinish(session):
    """Drop this process's broker keys (queues and bindings) from Redis once nothing will use them."""
    if not settings.REDIS_URL or app.conf.broker_transport_options.get("global_keyprefix") != BROKER_PREFIX:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for key in client.scan_iter(match=BROKER_PREFIX + "*"):
            client.delete(key)
    finally:
        client.close()


# WhiteNoise hands static files to Django's ASGI handler as synchronous iterators, which it warns about.
STATIC_OVER_ASGI = "ignore:StreamingHttpResponse must consume synchronous iterators:Warning"


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.filterwarnings(STATIC_OVER_ASGI))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.call_failed = report.failed
    return report


def release_dead_threads_connections() -> None:
    """Close the database connections that threads now gone left open (the server's executor threads).

    Unreachable objects in reference cycles hold them until the next collection; PostgreSQL refuses to
    drop the test database while any is open."""
    gc.collect()


@pytest.fixture(scope="package")
def engine(django_db_setup):
    """The Celery worker that runs the engine's events, in a thread, for the browser tests only.

    It stops when the package's tests are done, so no other test of this process shares its broker."""
    app.control.purge()
    worker = TestWorkController(
        app=app, pool="solo", concurrency=1, hostname=f"e2e-{os.getpid()}@localhost", loglevel="WARNING",
        without_heartbeat=True, without_mingle=True, without_gossip=True, ready_callback=None,
    )

    def work():
        try:
            worker.start()
        finally:
            connections.close_all()

    thread = threading.Thread(target=work, name="e2e-celery-worker", daemon=True)
    thread.start()
    worker.ensure_started()
    yield worker
    worker_state.should_terminate = 0
    thread.join(30)
    worker_state.should_terminate = None
    assert not thread.is_alive(), "the e2e Celery worker did not stop"
    release_dead_threads_connections()


@pytest.fixture
def server(transactional_db):
    """The ASGI application on a free port; WhiteNoise finds the static files as with DEBUG on."""
    with override_settings(WHITENOISE_USE_FINDERS=True):
        import devops.asgi  # noqa: F401  (its middleware reads the setting once, at import)
    thread = ServerThread().start()
    yield thread
    thread.server.force_exit = True  # an agent's long-poll claim must not hold the shutdown
    thread.stop()
    release_dead_threads_connections()


@pytest.fixture
def superuser(transactional_db):
    return get_user_model().objects.create_superuser(username="admin", email="", password=PASSWORD)


@pytest.fixture
def local_agent(server, engine, superuser, tmp_path):
    """A real agent process (agent/devops_agent.py) shared by every project, labelled self-hosted."""
    agent, secret = agent_create(project=None, user=superuser, name="local", labels=["self-hosted"], slots=2)
    process = start_local_agent(url=server.url, agent_id=agent.id, secret=secret, home=tmp_path / "agent")
    yield agent
    stop_process_group(process)


@pytest.fixture(scope="package")
def chromium(django_db_setup):
    """Headless Chromium for this package's tests.

    Playwright's synchronous API keeps an event loop registered as running in this thread, which makes
    Django refuse ORM calls here; the tests' ORM calls are plain synchronous code, so the check is
    switched off while the browser is up, and only then (no other test runs inside the package)."""
    saved = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if saved is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = saved


@pytest.fixture
def browser_page(request, chromium, server):
    """A fresh browser context on the live server (its own cookies), 1280 px wide; when the test fails,
    the page as it was is saved to test-output/e2e/<test name>-failed.png."""
    context = chromium.new_context(base_url=server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    if getattr(request.node, "call_failed", False):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}-failed.png"), full_page=True)
    context.close()


@pytest.fixture
def screenshot(request):
    """Saves the page to test-output/e2e/<test name>[-<step>].png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, step: str = "") -> Path:
        path = SCREENSHOTS / f"{request.node.name}{'-' + step if step else ''}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def log_in():
    """Signs a page in through the login form."""

    def sign_in(page, username: str, password: str = PASSWORD) -> None:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")

    return sign_in


@pytest.fixture
def admin_page(browser_page, superuser, log_in):
    """The browser, signed in as the superuser."""
    log_in(browser_page, superuser.username)
    return browser_page
