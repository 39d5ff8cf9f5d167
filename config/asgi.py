"""HTTP (every API, including the SSE chat stream) and WebSockets, routed by protocol then path.

Each WebSocket path signs in with its own product's credentials only (config/routing.py).
"""

import os

from core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.websocket import browser_origin_validator  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from core.middleware import ChunkedBodyCap  # noqa: E402

application = ProtocolTypeRouter(
    {
        # A chunked body reaches Django capped at its path's limit (core.middleware).
        "http": ChunkedBodyCap(django_asgi_app),
        "websocket": browser_origin_validator(URLRouter(websocket_urlpatterns)),
    }
)
