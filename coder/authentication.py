"""How Async Coder requests sign in: a bearer JWT from /api/auth/login, an ``X-API-Key``, or the
``async_coder_session`` cookie. Each is the platform's class, pinned to the coder product, so
another product's token, key or cookie answers 401."""

from __future__ import annotations

from accounts import products
from accounts.authentication import ApiKeyAuthentication, ProductJWTAuthentication, SessionCookieAuthentication
from coder import conf

PRODUCT = products.CODER


class CoderJWTAuthentication(ProductJWTAuthentication):
    product = PRODUCT


class CoderApiKeyAuthentication(ApiKeyAuthentication):
    header = "X-API-Key"
    product = PRODUCT


class CoderSessionCookieAuthentication(SessionCookieAuthentication):
    cookie_name = conf.SESSION_COOKIE_NAME
    product = PRODUCT


AUTHENTICATION_CLASSES = [CoderJWTAuthentication, CoderApiKeyAuthentication, CoderSessionCookieAuthentication]
