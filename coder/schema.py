"""OpenAPI pieces of the Async Coder API: its success envelope and its credentials.

Error responses are not written here: ``core.openapi`` derives them for every operation (with
``core.error_schemas``' ``CoderErrorEnvelope``) from its shape and its ``@raises``.
"""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer, inline_serializer
from rest_framework import serializers

from core.pagination import PageMetaSerializer


def envelope(name: str, data: serializers.Serializer, *, paginated: bool = False) -> serializers.Serializer:
    """The ``{success, data, error, meta}`` wrapper around ``data`` for the schema."""
    fields = {
        "success": serializers.BooleanField(default=True),
        "data": data,
        "error": serializers.JSONField(allow_null=True, default=None),
    }
    if paginated:
        fields["meta"] = PageMetaSerializer()
    wrapper = inline_serializer(name, fields)
    # One object, also for a viewset's ``list`` (which drf-spectacular would otherwise document as an array).
    extend_schema_serializer(many=False)(type(wrapper))
    return wrapper


class CoderApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "coder.authentication.CoderApiKeyAuthentication"
    name = "CoderApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-API-Key",
            "description": "A key made by `POST /coder/api/users/me/api-keys` (signed in with bearerAuth); "
            "the answer shows it once (`key`). Revoke it with `DELETE /coder/api/users/me/api-keys/{id}`.",
        }


class CoderSessionCookieScheme(OpenApiAuthenticationExtension):
    target_class = "coder.authentication.CoderSessionCookieAuthentication"
    name = "CoderSessionCookie"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "cookie",
            "name": "async_coder_session",
            "description": "Set (httpOnly, path /coder) by `POST /coder/api/auth/login`; writes also need "
            "Django's CSRF token in `X-CSRFToken`. Swagger UI cannot send a cookie typed in here (a page "
            "may not set the Cookie header): use bearerAuth, the login's `token`, instead.",
        }


def inline_choice_field(choices, **kwargs) -> serializers.ChoiceField:
    """A ChoiceField documented inline (its own enum), so it never collides with other APIs' enums
    of the same field name in the combined document."""
    values = [value for value, _label in choices]
    field_class = extend_schema_field({"type": "string", "enum": values})(
        type("InlineChoiceField", (serializers.ChoiceField,), {})
    )
    return field_class(choices=choices, **kwargs)
