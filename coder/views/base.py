from __future__ import annotations

from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request

from coder.authentication import AUTHENTICATION_CLASSES
from core.views import ApiView


class CoderView(ApiView):
    """A signed-in Async Coder endpoint (JWT, X-API-Key or session cookie), 100 requests / 15 min."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = [IsAuthenticated]
    rate_limit_scopes = ("coder.general",)


class PublicCoderView(CoderView):
    """Open to anyone; a credential, when sent, is still checked."""

    # AllowAny rather than no permission at all: the OpenAPI document then says a credential is optional.
    permission_classes = [AllowAny]


def validated(serializer_class: type[serializers.Serializer], data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def validated_query(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    return validated(serializer_class, request.query_params)
