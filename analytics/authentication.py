"""Staff sign-in for the analytics API's staff endpoint (the scrub dry run).

Clients of the spec's endpoints do not authenticate. Staff use their admin session (Django session
cookie, CSRF-checked) or a bearer token of a staff user from any product's sign-in.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from accounts.authentication import JWTAuthentication


class AnalyticsStaffJWTAuthentication(JWTAuthentication):
    """``Authorization: Bearer <access token>`` of a live session; staff rights are checked after."""


class AnalyticsStaffJWTScheme(OpenApiAuthenticationExtension):
    target_class = "analytics.authentication.AnalyticsStaffJWTAuthentication"
    name = "analyticsStaffBearer"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
