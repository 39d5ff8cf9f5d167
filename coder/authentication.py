"""How Async Coder requests sign in: a bearer JWT from /api/auth/login, an ``X-API-Key``, or the
``async_coder_session`` cookie. Each is the platform's class, pinned to the coder product."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions

from accounts.authentication import ApiKeyAuthentication, JWTAuthentication, SessionCookieAuthentication
from coder import conf

PRODUCT = "coder"


class CoderJWTAuthentication(JWTAuthentication):
    """A bearer access token whose ``product`` claim is ``coder`` (other APIs' tokens are refused)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and result[1].get("product") != PRODUCT:
            raise exceptions.AuthenticationFailed(_("This token was not issued by Async Coder"))
        return result


class CoderApiKeyAuthentication(ApiKeyAuthentication):
    header = "X-API-Key"
    product = PRODUCT


class CoderSessionCookieAuthentication(SessionCookieAuthentication):
    cookie_name = conf.SESSION_COOKIE_NAME
    product = PRODUCT


AUTHENTICATION_CLASSES = [CoderJWTAuthentication, CoderApiKeyAuthentication, CoderSessionCookieAuthentication]
