"""Schemathesis against the live schema of the Django app (WSGI, in process, real database): every
operation of /api/schema/ with an admin token, checked for no 5xx and responses that match the
schema. Path parameters are random or, half of the time, the real objects of a seeded project so
the operations reach their handlers. Destructive operations (DELETE) run last."""

import pytest
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.settings import api_settings
from schemathesis import openapi
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from apps.core.testing import make_user
from apps.openapi import services
from apps.openapi.tests.world import build_world
from apps.openapi.throttling import AnonymousIpRateThrottle, TokenRateThrottle

pytestmark = pytest.mark.django_db(transaction=False)

MAX_EXAMPLES = 12
SKIPPED_PREFIXES = ("/api/agent/",)  # agent protocol: its own credentials, covered by its own tests


def real_path_parameters(operation, world) -> dict:
    values = {**world["params"]}
    path = operation.path
    values["slug"] = (
        world["project"].slug if path.startswith("/api/v1/projects/{slug}") else world["pipeline"].slug
    )
    segments = [part for part in path.strip("/").split("/")]
    for index, part in enumerate(segments):
        if part in ("{pk}", "{id}"):
            key = "api-tokens" if path.startswith("/api/v1/tokens/") else segments[index - 1]
            values[part[1:-1]] = str(world["ids"].get(key, 1))
    return values


def run_operation(operation, app, headers, world):
    @given(case=operation.as_strategy(), real=st.booleans())
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def check(case, real):
        if real and case.path_parameters:
            known = real_path_parameters(operation, world)
            case.path_parameters = {
                name: known.get(name, value) for name, value in case.path_parameters.items()
            }
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    check()


@pytest.fixture
def keep_test_connection():
    """The WSGI handler closes the database connection after each request; the test's transaction
    must survive, as Django's own test client arranges."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_every_operation_answers_without_5xx_or_schema_violations(monkeypatch, keep_test_connection):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "token": "100000/minute", "anon": "100000/minute"}
    monkeypatch.setattr(TokenRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(AnonymousIpRateThrottle, "THROTTLE_RATES", rates)
    world = build_world()
    root = make_user("root", is_superuser=True, is_staff=True)
    token = services.token_create(user=root, name="schemathesis", scopes=["admin"])[1]
    headers = {"Authorization": f"Bearer {token}"}
    app = get_wsgi_application()
    schema = openapi.from_wsgi("/api/schema/?format=json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [op for op in operations if not op.path.startswith(SKIPPED_PREFIXES)]
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path))
    assert len(operations) > 40
    failures = []
    for operation in operations:
        try:
            run_operation(operation, app, headers, world)
        except Exception as error:  # noqa: BLE001 (every operation's failures, reported together)
            failures.append(f"{operation.method.upper()} {operation.path}: {str(error)[:1500]}")
    assert not failures, "\n\n".join(failures)
