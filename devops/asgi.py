"""ASGI entry point: HTTP through Django, websockets through Channels.

With DEVOPS_EMBEDDED_WORKER=1 the process also runs the Celery worker thread and the periodic tasks
(the embedded default's in-memory broker only reaches consumers in the same process).
"""
import os

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "devops.settings")
django_asgi_app = get_asgi_application()

if settings.DEVOPS_EMBEDDED_WORKER:
    from devops.embedded import start_embedded_worker

    start_embedded_worker()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from apps.log.routing import websocket_urlpatterns as log_websocket_urlpatterns  # noqa: E402

websocket_urlpatterns: list = [*log_websocket_urlpatterns]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
)
