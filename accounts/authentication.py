"""Authentication classes the APIs combine: JWT bearer, API key header, session cookie, staff session.

Each is pinned to one product (a subclass sets ``product``) and accepts only that product's
credentials (``accounts.products``). Each answers None when its credential is absent (so the next
class may try) and raises ``AuthenticationFailed`` when a credential is present but wrong, so a bad
token is never silently treated as anonymous.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.drainage import set_override
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication

from accounts import selectors
from accounts.services import api_key_touch
from accounts.tokens import access_token_user


class ProductJWTAuthentication(SimpleJWTAuthentication):
    """``Authorization: Bearer <access token>`` issued for ``product``, whose session is still live
    (``accounts.tokens.access_token_user``). Another product's token answers 401."""

    www_authenticate_realm = "api"
    product = ""

    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        raw = raw_token.decode() if isinstance(raw_token, bytes) else raw_token
        return access_token_user(raw, product=self.product)


# Each product's subclass is the same OpenAPI scheme ("bearerAuth", below) by design, not a collision.
set_override(ProductJWTAuthentication, "suppress_collision_warning", True)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """A product's API key in a header (``X-API-Key`` unless a subclass says otherwise)."""

    header = "X-API-Key"
    product = ""

    def authenticate(self, request):
        raw_key = request.headers.get(self.header)
        if not raw_key:
            return None
        api_key = selectors.api_key_by_raw(raw_key.strip(), product=self.product)
        if api_key is None or not api_key.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid API key"))
        api_key_touch(api_key=api_key)
        return api_key.user, api_key

    def authenticate_header(self, request) -> str:
        return self.header


class SessionCookieAuthentication(authentication.BaseAuthentication):
    """An opaque session key of ``product`` in a cookie, with Django's CSRF check on unsafe methods."""

    cookie_name = ""
    product = ""

    def authenticate(self, request):
        session_key = request.COOKIES.get(self.cookie_name)
        if not session_key:
            return None
        session = selectors.session_by_key(session_key, product=self.product)
        if session is None or not session.user.is_active:
            raise exceptions.AuthenticationFailed(_("Session has ended; sign in again"))
        self.enforce_csrf(request)
        return session.user, session

    def enforce_csrf(self, request) -> None:
        keep_body_readable(request)
        authentication.SessionAuthentication().enforce_csrf(request)


class StaffSessionAuthentication(authentication.SessionAuthentication):
    """The Django session of the admin log-in (``/admin/login/``, throttled by django-axes), CSRF
    checked on unsafe methods. Staff endpoints take this and nothing else: no product's token
    carries staff rights."""

    def enforce_csrf(self, request) -> None:
        keep_body_readable(request)
        super().enforce_csrf(request)


def keep_body_readable(request) -> None:
    """Read the raw body before Django's CSRF check parses a form body from the stream, so a view
    that reads ``request.body`` afterwards still can (Django refuses the body once the stream was
    read). The body is already held to its size limit (``core.middleware``)."""
    django_request = getattr(request, "_request", request)
    if django_request.method not in ("GET", "HEAD", "OPTIONS", "TRACE"):
        django_request.body  # noqa: B018 - reading caches it


class ProductJWTScheme(OpenApiAuthenticationExtension):
    """One bearer scheme in the OpenAPI documents for every product's JWT class."""

    target_class = "accounts.authentication.ProductJWTAuthentication"
    match_subclasses = True
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "An access token issued by this API's own sign-in; other APIs' tokens are refused.",
        }


class StaffSessionScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.StaffSessionAuthentication"
    name = "staffSession"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "sessionid",
            "description": "The Django session of a staff user's admin log-in: sign in at /admin/login/ "
            "(locally, make a staff user with `.venv/bin/python manage.py createsuperuser`). Swagger UI "
            "cannot set this cookie, but on the same origin the browser sends it by itself after that log-in; "
            "writes also need the `csrftoken` cookie's value in `X-CSRFToken`. There is no bearer alternative: "
            "staff endpoints take the admin session only.",
        }
