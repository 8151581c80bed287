"""Websocket routes of the log app, included in devops/asgi.py."""

from django.urls import re_path

from apps.log.consumers import BuildLogConsumer

websocket_urlpatterns = [
    re_path(
        r"^ws/projects/(?P<slug>[^/]+)/pipelines/(?P<pipeline>[^/]+)/builds/(?P<number>[0-9]+)/$",
        BuildLogConsumer.as_asgi(),
    ),
]
