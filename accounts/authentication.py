"""Authentication classes the APIs combine: JWT bearer, API key header, session cookie.

Each answers None when its credential is absent (so the next class may try) and raises
``AuthenticationFailed`` when a credential is present but wrong, so a bad token is never silently
treated as anonymous.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication as SimpleJWTAuthentication
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from accounts import selectors
from accounts.models import User
from accounts.services import api_key_touch


def user_for_access_token(raw_token: str) -> tuple[User, AccessToken]:
    """The active user of an access token, and the token: signature, expiry and type checked, and
    its session read with its user in one query (``user_of_live_session``), where revocation is
    written, so a revoked or expired session is refused at once. AuthenticationFailed otherwise."""
    try:
        token = AccessToken(raw_token)
    except TokenError as exc:
        raise exceptions.AuthenticationFailed(_("Invalid or expired token")) from exc
    user = selectors.user_of_live_session(token["sid"]) if token.get("sid") else None
    if user is None or str(user.pk) != str(token.get(jwt_settings.USER_ID_CLAIM, "")):
        raise exceptions.AuthenticationFailed(_("Session has ended; sign in again"))
    if not user.is_active:
        raise exceptions.AuthenticationFailed(_("Account is disabled"))
    return user, token


class JWTAuthentication(SimpleJWTAuthentication):
    """``Authorization: Bearer <access token>`` whose session is still live (``user_for_access_token``)."""

    www_authenticate_realm = "api"

    def authenticate(self, request):
        header = self.get_header(request)
        raw_token = self.get_raw_token(header) if header is not None else None
        if raw_token is None:
            return None
        return user_for_access_token(raw_token.decode() if isinstance(raw_token, bytes) else raw_token)


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
    """An opaque session key in a cookie, with Django's CSRF check on unsafe methods."""

    cookie_name = ""
    product = ""

    def authenticate(self, request):
        session_key = request.COOKIES.get(self.cookie_name)
        if not session_key:
            return None
        session = selectors.session_by_key(session_key, product=self.product or None)
        if session is None or not session.user.is_active:
            raise exceptions.AuthenticationFailed(_("Session has ended; sign in again"))
        self.enforce_csrf(request)
        return session.user, session

    def enforce_csrf(self, request) -> None:
        authentication.SessionAuthentication().enforce_csrf(request)
