"""How Async Coder requests sign in: a bearer JWT from /api/auth/login, an ``X-API-Key``, or the
``async_coder_session`` cookie. Each is the platform's class, pinned to the coder product, so
another product's token, key or cookie answers 401.

API keys are for automating tasks; managing the account's credentials is for a signed-in person
(``SESSION_AUTHENTICATION_CLASSES``)."""

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

# What only a session (Clerk sign-in: its bearer token or its cookie) may do: manage API keys,
# connect GitHub, edit the profile. A leaked API key must not mint more keys or revoke the owner's
# (revoking it would then not lock its holder out), nor swap the GitHub token used for clones, pushes
# and pull requests.
SESSION_AUTHENTICATION_CLASSES = [CoderJWTAuthentication, CoderSessionCookieAuthentication]
