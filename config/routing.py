"""WebSocket paths of every API, each signed in by its own product's credentials only."""

from django.urls import path

from accounts import products
from accounts.websocket import ProductAuthMiddleware
from coder.consumers import CoderEventsConsumer
from marketplace.consumers import MarketplaceEventsConsumer

websocket_urlpatterns = [
    path("coder/ws", ProductAuthMiddleware(CoderEventsConsumer.as_asgi(), product=products.CODER)),
    path("marketplace/ws", ProductAuthMiddleware(MarketplaceEventsConsumer.as_asgi(), product=products.MARKETPLACE)),
]
