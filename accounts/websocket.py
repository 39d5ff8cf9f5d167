"""ASGI middleware that signs WebSocket connections in, each socket path for its own product.

The access token may come as the ``token`` query parameter, an ``Authorization: Bearer`` header,
or the ``access_token`` cookie; the product's session cookie works too (coder's
``async_coder_session``). Only credentials issued for the socket's product count
(``accounts.tokens``): a marketplace token on ``/coder/ws`` is closed with 4401. The user lands in
``scope["user"]`` (anonymous when nothing valid was given).

``BrowserOriginValidator`` guards against cross-site WebSocket hijacking: a browser always sends
``Origin``, which must be one of the API's own hosts (``ALLOWED_HOSTS``) or a front end allowed
by ``CORS_ALLOWED_ORIGINS``. A connection without ``Origin`` comes from a non-browser client (an
SDK, a CLI, a server), which no third-party page can drive, so it is let through to the token
check.
"""

from __future__ import annotations

from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework import exceptions

from accounts import selectors
from accounts.tokens import access_token_user

ACCESS_TOKEN_COOKIE = "access_token"
# The session cookie each product's sign-in sets, where it sets one.
SESSION_COOKIES = {"coder": "async_coder_session"}


def _headers(scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def credentials_from_scope(scope) -> tuple[str | None, dict[str, str]]:
    """(JWT if any, cookies) from a connection's query string, headers and cookies."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    headers = _headers(scope)
    cookies: dict[str, str] = {}
    if "cookie" in headers:
        parsed = SimpleCookie()
        parsed.load(headers["cookie"])
        cookies = {name: morsel.value for name, morsel in parsed.items()}
    token = (query.get("token") or [None])[0]
    authorization = headers.get("authorization", "")
    if not token and authorization.lower().startswith("bearer "):
        token = authorization[7:].strip()
    if not token:
        token = cookies.get(ACCESS_TOKEN_COOKIE)
    return token, cookies


@database_sync_to_async
def user_for_credentials(token: str | None, cookies: dict[str, str], *, product: str):
    """(the user the credentials sign in to ``product``, or AnonymousUser; their session's id)."""
    if token:
        try:
            user, access_token = access_token_user(token, product=product)
        except exceptions.AuthenticationFailed:
            return AnonymousUser(), None
        return user, access_token.get("sid")
    cookie_name = SESSION_COOKIES.get(product)
    if cookie_name and cookies.get(cookie_name):
        session = selectors.session_by_key(cookies[cookie_name], product=product)
        if session is not None and session.user.is_active:
            return session.user, str(session.pk)
    return AnonymousUser(), None


class ProductAuthMiddleware(BaseMiddleware):
    """Signs a socket in with credentials of ``product`` only; ``config/routing.py`` wraps each socket
    path's consumer in one."""

    def __init__(self, inner, *, product: str) -> None:
        super().__init__(inner)
        self.product = product

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            token, cookies = credentials_from_scope(scope)
            user, session_id = await user_for_credentials(token, cookies, product=self.product)
            # The session too: its revocation closes the socket (core.consumers, core.realtime).
            scope = dict(scope, user=user, session_id=session_id)
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    def valid_origin(self, parsed_origin) -> bool:
        if parsed_origin is None:
            return True
        return self.validate_origin(parsed_origin)


def browser_origin_validator(application) -> BrowserOriginValidator:
    """Wrap ``application`` so only the API's own hosts and allowed front ends may open sockets."""
    return BrowserOriginValidator(application, [*settings.ALLOWED_HOSTS, *settings.CORS_ALLOWED_ORIGINS])
