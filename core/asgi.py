"""Django's ASGI handler with the middleware chain and the view run in one thread hop per request.

Django's own handler runs an async-capable chain on the event loop, and each of its middleware
built on ``MiddlewareMixin`` (security, sessions, common, CSRF, auth, messages, clickjacking) calls
its ``process_request`` and ``process_response`` through ``sync_to_async``: about seventeen
hand-offs between the loop and a thread for one request to a sync view, which cost three times
the CPU of the same request under WSGI (docs/deployment.md, "The ASGI handler"). Every API view
is sync, so here the whole chain runs synchronously in the request's thread, entered once. An
async view (cerebro's chat stream) is still awaited on the event loop (Django's sync handler
calls it through ``async_to_sync``), and a streamed answer is still sent from the loop.
"""

from __future__ import annotations

import django
from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class OneHopASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)


def get_asgi_application() -> OneHopASGIHandler:
    """As ``django.core.asgi.get_asgi_application``, with the one-hop handler."""
    django.setup(set_prefix=False)
    return OneHopASGIHandler()
