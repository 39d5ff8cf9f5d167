"""OpenAPI pieces of the Async Coder API: the success and error envelopes, and its auth schemes."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema_field, inline_serializer
from rest_framework import serializers

from core.pagination import PageMetaSerializer

ErrorBodySerializer = inline_serializer(
    "CoderError",
    {
        "code": serializers.CharField(),
        "message": serializers.CharField(),
        "details": serializers.JSONField(allow_null=True),
    },
)
ErrorEnvelopeSerializer = inline_serializer(
    "CoderErrorEnvelope",
    {
        "success": serializers.BooleanField(default=False),
        "data": serializers.JSONField(allow_null=True),
        "error": ErrorBodySerializer,
    },
)

ERROR_DESCRIPTIONS = {
    400: "VALIDATION_ERROR: the request is invalid",
    401: "UNAUTHORIZED: authentication required or invalid",
    402: "INSUFFICIENT_CREDITS: not enough credits",
    403: "FORBIDDEN: not allowed",
    404: "RESOURCE_NOT_FOUND: no such resource (or not yours)",
    409: "CONFLICT: the resource is not in a state that allows this",
    429: "RATE_LIMIT_EXCEEDED: too many requests (X-RateLimit-* headers)",
    502: "EXTERNAL_API_ERROR: GitHub or Clerk did not answer as expected",
    503: "SERVICE_UNAVAILABLE: a dependency is not configured or down",
}


def error_responses(*statuses: int) -> dict[int, OpenApiResponse]:
    return {
        status: OpenApiResponse(ErrorEnvelopeSerializer, description=ERROR_DESCRIPTIONS[status]) for status in statuses
    }


def envelope(name: str, data: serializers.Serializer, *, paginated: bool = False):
    """The ``{success, data, error, meta}`` wrapper around ``data`` for the schema."""
    fields = {
        "success": serializers.BooleanField(default=True),
        "data": data,
        "error": serializers.JSONField(allow_null=True, default=None),
    }
    if paginated:
        fields["meta"] = PageMetaSerializer()
    return inline_serializer(name, fields)


class CoderApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "coder.authentication.CoderApiKeyAuthentication"
    name = "CoderApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "X-API-Key"}


class CoderSessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "coder.authentication.CoderSessionCookieAuthentication"
    name = "CoderSessionCookie"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "async_coder_session"}


def inline_choice_field(choices, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField documented inline (its own enum), so it never collides with other APIs' enums
    of the same field name in the combined document."""
    values = [value for value, _label in choices]
    field_class = extend_schema_field({"type": "string", "enum": values})(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)
