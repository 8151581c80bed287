"""Fixtures of the log tests: the release pipeline's build fixtures, and on the Redis leg the project's
channel layer with a prefix per pytest worker (build ids repeat across the workers' databases)."""

import os

import pytest
from django.conf import settings

from apps.process.tests.builds_samples import *  # noqa: F403 (the fixtures)


@pytest.fixture(autouse=True)
def channel_layer_per_worker():
    if not settings.REDIS_URL:
        yield
        return
    from django.test import override_settings

    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    prefix = f"logtest-{os.getpid()}-{worker}"
    layers = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "prefix": prefix},
        }
    }
    with override_settings(CHANNEL_LAYERS=layers):
        yield
