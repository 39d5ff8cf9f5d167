"""The signed-in user's Async Coder API keys (for ``X-API-Key``): list, create, revoke."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema

from coder.authentication import SESSION_AUTHENTICATION_CLASSES
from coder.errors import API_KEY_NOT_FOUND
from coder.responses import ok
from coder.schema import envelope
from coder.selectors.api_keys import coder_api_keys_of
from coder.serializers.auth import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer, MessageSerializer
from coder.services.auth import coder_api_key_create, coder_api_key_revoke
from coder.views.base import CoderViewSet


class ApiKeyViewSet(CoderViewSet):
    """The signed-in user's API keys, revoked ones included (marked); a session only, never an API key."""

    authentication_classes = SESSION_AUTHENTICATION_CLASSES
    lookup_url_kwarg = "api_key_id"
    not_found = API_KEY_NOT_FOUND
    body_serializers = {"create": ApiKeyCreateSerializer}

    def get_queryset(self):
        return coder_api_keys_of(user=self.request.user)

    @extend_schema(
        operation_id="coder_api_keys_list",
        summary="List API keys",
        description="Newest first; the keys themselves are never shown again, only their prefix.",
        responses={200: envelope("CoderApiKeysResponse", ApiKeySerializer(many=True))},
    )
    def list(self, request):
        return ok(ApiKeySerializer(self.get_queryset(), many=True).data)

    @extend_schema(
        operation_id="coder_api_keys_create",
        summary="Create an API key",
        description="The answer's `key` is the key itself, shown this once only.",
        responses={201: envelope("CoderApiKeyCreatedResponse", ApiKeyCreatedSerializer())},
    )
    def create(self, request):
        data = self.validated_body()
        issued = coder_api_key_create(user=request.user, name=data.get("name", ""))
        return ok({**ApiKeySerializer(issued.api_key).data, "key": issued.raw_key}, status=201)

    @extend_schema(
        operation_id="coder_api_keys_revoke",
        summary="Revoke an API key",
        description="The key answers 401 from then on.",
        responses={200: envelope("CoderApiKeyRevokedResponse", MessageSerializer())},
    )
    def destroy(self, request, api_key_id):
        coder_api_key_revoke(api_key=self.get_object())
        return ok({"message": "API key revoked"})
