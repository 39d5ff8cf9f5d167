"""OpenAPI: how the telemetry API key appears in the schema (a bearer token)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TelemetryApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "telemetry.authentication.TelemetryApiKeyAuthentication"
    name = "TelemetryApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": 'An API key (`ngb_live_...`): `POST /telemetry/api/v1/keys` with `{"email": ...}` '
            "answers it once (`apiKey`), no sign-in needed; confirming the e-mailed code "
            "(`POST /telemetry/api/v1/keys/confirm`) gives it its account's tier. The spec's endpoints also need "
            "the `X-User-Id` header.",
        }
