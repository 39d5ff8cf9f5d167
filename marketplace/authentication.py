"""How marketplace requests sign in: a bearer JWT issued by ``/auth/login`` for this API."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions

from accounts.authentication import JWTAuthentication

PRODUCT = "marketplace"


class MarketplaceJWTAuthentication(JWTAuthentication):
    """A bearer access token whose ``product`` claim is ``marketplace``.

    Tokens minted for another API (coder, cerebro, ...) are refused: each API signs its users in
    its own way, and a token is only as strong as the sign-in that issued it.
    """

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None and result[1].get("product") != PRODUCT:
            raise exceptions.AuthenticationFailed(_("This token was not issued by the marketplace sign-in"))
        return result


class MarketplaceJWTScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes the marketplace's sign-in."""

    target_class = "marketplace.authentication.MarketplaceJWTAuthentication"
    name = "marketplaceBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
