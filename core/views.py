"""The base view every API view inherits: authentication, rate limits, then permissions.

``RateLimited`` is that behaviour on its own, shared by ``ApiView`` (RPC-shaped endpoints) and
``core.viewsets.ApiViewSet`` (resource-shaped families); docs/architecture.md says which is which.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core import ratelimit
from core.envelopes import envelope_for_path
from core.serializers import shared_instance


class RateLimited:
    """Counts each request against ``get_rate_limit_scopes()``, between authentication and permissions.

    Rate limits are checked after authentication (so they key on the user when there is one)
    and before permissions (so anonymous hammering of a protected endpoint is limited too). The
    tightest scope's figures go into the X-RateLimit-* headers of every answer.
    """

    rate_limit_scopes: tuple[str, ...] = ()

    def get_rate_limit_scopes(self, request: Request) -> tuple[str, ...]:
        return self.rate_limit_scopes

    def get_rate_limit_identity(self, request: Request) -> str | None:
        return None  # the user when signed in, else the client address

    def initial(self, request: Request, *args, **kwargs) -> None:
        self.format_kwarg = self.get_format_suffix(**kwargs)
        neg = self.perform_content_negotiation(request)
        request.accepted_renderer, request.accepted_media_type = neg
        version, scheme = self.determine_version(request, *args, **kwargs)
        request.version, request.versioning_scheme = version, scheme
        self.perform_authentication(request)
        self.enforce_rate_limits(request)
        self.check_permissions(request)
        self.check_throttles(request)

    def enforce_rate_limits(self, request: Request) -> None:
        identity = self.get_rate_limit_identity(request)
        tightest = None
        for scope in self.get_rate_limit_scopes(request):
            result = ratelimit.enforce(request, scope, identity)
            if tightest is None or result.remaining < tightest.remaining:
                tightest = result
        request.rate_limit = tightest

    def finalize_response(self, request: Request, response: Response, *args, **kwargs) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)
        result = getattr(request, "rate_limit", None)
        if result is not None and "X-RateLimit-Limit" not in response:
            result.apply_headers(response, envelope_for_path(request.path))
        return response


class ApiView(RateLimited, APIView):
    """An APIView that counts each request against ``rate_limit_scopes``."""


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict:
    """``data`` checked by ``serializer_class``: its validated data, or a 400 in the API's envelope.

    A request without a body reaches a view as an empty ``QueryDict``; it is validated as ``{}``,
    so fields read as absent (their defaults), never as an HTML form's unchecked boxes. Valid data is
    checked by the serializer's shared instance (``core.serializers.shared_instance``: its fields
    are built once per process); invalid data again by a new instance, whose ``is_valid`` words the
    errors as DRF does.
    """
    if isinstance(data, QueryDict) and not data:
        data = {}
    try:
        return shared_instance(serializer_class).run_validation(data)
    except ValidationError:
        pass
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
