"""How the minicontratos API (cerebro and ledger) knows who is calling.

- The NextAuth v4 session cookie (``next-auth.session-token`` or its ``__Secure-`` form), the way
  the spec's browser client calls; the user is matched by the token's ``email`` claim.
- ``Authorization: Bearer <access token>`` from the platform's own sign-in (API clients).

A credential that is present but wrong answers 401 and counts against the ``cerebro.auth`` rate
limit (5 a minute per client), so guessing tokens is throttled. A cookie-authenticated write from
a foreign ``Origin`` is refused: the cookie is ambient, so without that check another site could
post with it.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.authentication import JWTAuthentication
from accounts.services import user_get_or_create_for_identity
from cerebro import nextauth
from core import errors, ratelimit

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
    from accounts.models import User

    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    subject = str(claims.get("sub") or email or "")
    if not subject:
        raise exceptions.AuthenticationFailed("Session token carries neither sub nor email")
    cache_key = "cerebro:nextauth:" + hashlib.sha256(f"{subject}\x00{email or ''}".encode()).hexdigest()
    user_id = cache.get(cache_key)
    user = User.objects.filter(pk=user_id).first() if user_id else None
    if user is None:
        user, _ = user_get_or_create_for_identity(
            provider="nextauth",
            subject=subject,
            email=email,
            display_name=str(claims.get("name") or ""),
            avatar_url=str(claims.get("picture") or ""),
        )
        cache.set(cache_key, str(user.pk), timeout=IDENTITY_CACHE_SECONDS)
    if not user.is_active:
        raise exceptions.AuthenticationFailed("Account is disabled")
    return user


class NextAuthSessionAuthentication(authentication.BaseAuthentication):
    """The NextAuth v4 session cookie, decrypted with ``NEXTAUTH_SECRET``."""

    def authenticate(self, request):
        django_request = getattr(request, "_request", request)
        token = nextauth.session_token_from_cookies(django_request.COOKIES)
        if not token:
            return None
        if not settings.NEXTAUTH_SECRET:
            raise exceptions.AuthenticationFailed("NextAuth sessions are not configured on this server")
        try:
            claims = nextauth.decode_session_token(token, settings.NEXTAUTH_SECRET)
        except nextauth.InvalidSessionTokenError:
            count_failed_attempt(django_request)
            raise exceptions.AuthenticationFailed("Invalid or expired session")
        if django_request.method in UNSAFE_METHODS and not _origin_is_trusted(django_request):
            raise errors.FORBIDDEN("Cross-site request refused: the Origin is not trusted")
        return _user_for_claims(claims), claims

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'


class BearerAuthentication(JWTAuthentication):
    """The platform's access token; a rejected one counts against ``cerebro.auth``."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            count_failed_attempt(getattr(request, "_request", request))
            raise


AUTHENTICATION_CLASSES = (NextAuthSessionAuthentication, BearerAuthentication)


def authenticate_request(request: HttpRequest):
    """Run the API's authentication on a plain Django request (the async chat view); the user or None.

    Raises the same errors as the DRF views do.
    """
    for auth_class in AUTHENTICATION_CLASSES:
        result = auth_class().authenticate(request)
        if result is not None:
            return result[0]
    return None


class NextAuthSessionScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the NextAuth session cookie."""

    target_class = "cerebro.authentication.NextAuthSessionAuthentication"
    name = "nextAuthSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "next-auth.session-token",
            "description": "The NextAuth v4 session token (or __Secure-next-auth.session-token over HTTPS).",
        }


class BearerScheme(OpenApiAuthenticationExtension):
    target_class = "cerebro.authentication.BearerAuthentication"
    name = "cerebroBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
