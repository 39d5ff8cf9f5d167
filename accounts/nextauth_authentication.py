"""How the minicontratos API (cerebro and ledger) knows who is calling: its own sessions only.

- The app's session cookie: Auth.js v5 (``authjs.session-token``) or NextAuth v4
  (``next-auth.session-token``), either with its ``__Secure-`` form, decrypted with
  ``NEXTAUTH_SECRET`` (``accounts.identity.nextauth``). The user is found by the session's subject;
  an existing user is joined only on an address the session asserts as verified.
- ``Authorization: Bearer <access token>`` issued for cerebro. Another product's token (coder,
  marketplace) answers 401.

A credential that is present but wrong answers 401 and counts against the ``cerebro.auth`` rate
limit (5 a minute per client), so guessing tokens is throttled. A cookie-authenticated write from
a foreign ``Origin`` is refused: the cookie is ambient, so without that check another site could
post with it.

It is accounts' (an identity of the user's), not cerebro's: cerebro and its ledger both sign people
in with ``MINICONTRATOS_AUTHENTICATION``, and neither app imports the other.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts import products
from accounts.authentication import ProductJWTAuthentication
from accounts.identity import nextauth
from accounts.models import User
from accounts.services import user_for_identity
from core import errors, ratelimit

PRODUCT = products.CEREBRO

AUTH_FAILURE_SCOPE = "cerebro.auth"
IDENTITY_CACHE_SECONDS = 300
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def count_failed_attempt(request: HttpRequest) -> None:
    """Count a rejected credential for this client; 429 once it exceeds ``cerebro.auth``."""
    ratelimit.enforce(request, AUTH_FAILURE_SCOPE, ratelimit.anonymous_identity(request))


def _origin_is_trusted(request: HttpRequest) -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return True  # not a browser cross-site request (browsers send Origin on every unsafe one)
    trusted = {*settings.CSRF_TRUSTED_ORIGINS, *settings.CORS_ALLOWED_ORIGINS}
    if origin in trusted:
        return True
    return urlsplit(origin).netloc == request.get_host()


def _user_for_claims(claims: dict):
    try:
        identity = nextauth.nextauth_identity(claims, emails_verified=settings.NEXTAUTH_EMAILS_VERIFIED)
    except nextauth.InvalidSessionTokenError:
        raise exceptions.AuthenticationFailed("The session names no one")
    cache_key = (
        "cerebro:nextauth:"
        + hashlib.sha256(
            f"{identity.subject}\x00{identity.email or ''}\x00{identity.email_verified}".encode()
        ).hexdigest()
    )
    user_id = cache.get(cache_key)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        user, _ = user_for_identity(identity=identity)
        cache.set(cache_key, str(user.pk), timeout=IDENTITY_CACHE_SECONDS)
    if not user.is_active:
        raise exceptions.AuthenticationFailed("Account is disabled")
    return user


class NextAuthSessionAuthentication(authentication.BaseAuthentication):
    """The Auth.js v5 or NextAuth v4 session cookie, decrypted with ``NEXTAUTH_SECRET``."""

    def authenticate(self, request):
        django_request = getattr(request, "_request", request)
        cookie = nextauth.session_cookie_from(django_request.COOKIES)
        if cookie is None:
            return None
        if not settings.NEXTAUTH_SECRET:
            raise exceptions.AuthenticationFailed("NextAuth sessions are not configured on this server")
        try:
            claims = nextauth.decode_session_token(cookie.token, settings.NEXTAUTH_SECRET, cookie_name=cookie.name)
        except nextauth.InvalidSessionTokenError:
            count_failed_attempt(django_request)
            raise exceptions.AuthenticationFailed("Invalid or expired session")
        if django_request.method in UNSAFE_METHODS and not _origin_is_trusted(django_request):
            raise errors.FORBIDDEN("Cross-site request refused: the Origin is not trusted")
        return _user_for_claims(claims), claims

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BearerAuthentication(ProductJWTAuthentication):
    """An access token issued for cerebro; a rejected one counts against ``cerebro.auth``."""

    product = PRODUCT

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            count_failed_attempt(getattr(request, "_request", request))
            raise


# Both minicontratos APIs (cerebro and its ledger) sign people in with these, in this order.
MINICONTRATOS_AUTHENTICATION = (NextAuthSessionAuthentication, BearerAuthentication)


def authenticate_request(request: HttpRequest):
    """Run the API's authentication on a plain Django request (the async chat view); the user or None.

    Raises the same errors as the DRF views do.
    """
    for auth_class in MINICONTRATOS_AUTHENTICATION:
        result = auth_class().authenticate(request)
        if result is not None:
            return result[0]
    return None


class NextAuthSessionScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the NextAuth session cookie."""

    target_class = "accounts.nextauth_authentication.NextAuthSessionAuthentication"
    name = "nextAuthSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "authjs.session-token",
            "description": "The Auth.js v5 session token (or __Secure-authjs.session-token over HTTPS), or the "
            "NextAuth v4 session token in next-auth.session-token / __Secure-next-auth.session-token, as the "
            "minicontratos app sets it when someone signs in there (the app and this server share "
            "`NEXTAUTH_SECRET`). Swagger UI in a browser cannot send this cookie: use bearerAuth instead, a "
            "token of a session started for cerebro (locally: `.venv/bin/python manage.py dev_access_token "
            "--product cerebro --email you@example.com`).",
        }
