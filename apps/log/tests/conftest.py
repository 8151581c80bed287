"""Fixtures of the log tests: the release pipeline's build fixtures, and on the Redis leg a channel
layer with a prefix per pytest worker (build ids repeat across the workers' databases)."""

import os

import pytest
from django.conf import settings

from apps.process.tests.builds_samples import *  # noqa: F403 (the fixtures)
from devops import settings as project_settings


@pytest.fixture(autouse=True)
def channel_layer_per_worker():
    if not settings.REDIS_URL:
        yield
        return
    from django.test import override_settings

    with override_settings(CHANNEL_LAYERS=worker_layers(settings.REDIS_URL)):
        yield


def worker_layers(*hosts) -> dict:
    """The project's Redis channel layer with this pytest worker's prefix over `hosts` (URLs, or
    the project's host entries with their socket options)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = f"logtest-{os.getpid()}-{worker}"
    config = {"hosts": list(hosts), "prefix": prefix}
    backend = project_settings.CHANNEL_LAYERS["default"]["BACKEND"]
    return {"default": {"BACKEND": backend, "CONFIG": config}}
