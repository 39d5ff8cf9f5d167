"""The OpenAPI schema of each API's error body: what ``core.envelopes`` renders, described once.

``ERROR_BODIES`` maps an envelope's name to its serializer; ``core.openapi`` documents every
derived error response with it, and ``tests/core/test_openapi.py`` checks that each envelope's
rendered error matches its schema. The component names are those the documents always had.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers


def named(component_name: str, base: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """``base`` as an OpenAPI component of its own name (each API's, as its document always had)."""
    return extend_schema_serializer(component_name=component_name)(type(component_name, (base,), {}))


class ErrorBody(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    details = serializers.JSONField(allow_null=True)


class MarketplaceErrorBody(ErrorBody):
    timestamp = serializers.DateTimeField()


class StatusErrorBody(ErrorBody):
    details = serializers.JSONField(required=False, allow_null=True)


@extend_schema_field({"type": "string", "default": "error", "description": 'always "error"', "example": "error"})
class AlwaysError(serializers.CharField):
    pass


# One class per envelope of core.envelopes, in the same order.
@extend_schema_serializer(component_name="CoderErrorEnvelope")
class CoderErrorEnvelope(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    data = serializers.JSONField(allow_null=True)
    error = named("CoderError", ErrorBody)()


@extend_schema_serializer(component_name="MarketplaceError")
class MarketplaceErrorEnvelope(serializers.Serializer):
    error = named("MarketplaceErrorDetail", MarketplaceErrorBody)()


@extend_schema_serializer(component_name="ErrorOutput")
class CerebroErrorEnvelope(serializers.Serializer):
    """The spec's error body: ``{"error": "validation_error", "message": ..., "details": ...}``."""

    error = serializers.CharField(help_text="validation_error, bad_request, authentication_error, ...")
    message = serializers.CharField()
    details = serializers.JSONField(required=False)


@extend_schema_serializer(component_name="ErrorEnvelope")
class TelemetryErrorEnvelope(serializers.Serializer):
    success = serializers.BooleanField(default=False)
    error = named("ErrorDetail", ErrorBody)()


@extend_schema_serializer(component_name="AnalyticsErrorResponse")
class AnalyticsErrorEnvelope(serializers.Serializer):
    status = AlwaysError(default="error")
    error = named("AnalyticsErrorDetail", StatusErrorBody)()


@extend_schema_serializer(component_name="PlatformErrorResponse")
class PlatformErrorEnvelope(AnalyticsErrorEnvelope):
    """The platform's own paths (``/health``, unknown root paths): analytics' shape."""


# core.envelopes' name of each envelope -> the serializer describing its error body.
ERROR_BODIES: dict[str, type[serializers.Serializer]] = {
    "coder": CoderErrorEnvelope,
    "marketplace": MarketplaceErrorEnvelope,
    "cerebro": CerebroErrorEnvelope,
    "telemetry": TelemetryErrorEnvelope,
    "analytics": AnalyticsErrorEnvelope,
    "platform": PlatformErrorEnvelope,
}
