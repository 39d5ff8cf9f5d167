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
            "description": "An API key from POST /telemetry/api/v1/keys (ngb_live_...).",
        }
