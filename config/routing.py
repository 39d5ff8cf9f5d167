"""WebSocket paths of every API."""

from django.urls import path

from coder.consumers import CoderEventsConsumer
from marketplace.consumers import MarketplaceEventsConsumer

websocket_urlpatterns = [
    path("coder/ws", CoderEventsConsumer.as_asgi()),
    path("marketplace/ws", MarketplaceEventsConsumer.as_asgi()),
]
