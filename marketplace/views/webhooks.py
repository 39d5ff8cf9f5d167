"""``/webhooks``: the signed-in user's webhook endpoints and their delivery log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core import errors
from core.openapi import one_object, raises
from marketplace.errors import WEBHOOK_NOT_FOUND
from marketplace.selectors import webhooks as webhook_selectors
from marketplace.serializers.inputs import WebhookCreateSerializer
from marketplace.serializers.outputs import WebhookDeliverySerializer, WebhookEndpointSerializer
from marketplace.services import webhooks as webhook_services
from marketplace.views.base import MarketplaceViewSet

WebhookListResponse = one_object(
    inline_serializer("MarketplaceWebhookList", {"webhooks": WebhookEndpointSerializer(many=True)})
)
WebhookCreatedResponse = inline_serializer(
    "MarketplaceWebhookCreated", {"webhook": WebhookEndpointSerializer(), "secret": serializers.CharField()}
)
DeliveriesResponse = inline_serializer(
    "MarketplaceWebhookDeliveries", {"deliveries": WebhookDeliverySerializer(many=True)}
)


class WebhookViewSet(MarketplaceViewSet):
    """Your webhook endpoints: another user's is a 404, as if it did not exist."""

    lookup_url_kwarg = "webhook_id"
    not_found = WEBHOOK_NOT_FOUND
    body_serializers = {"create": WebhookCreateSerializer}

    def get_queryset(self):
        return webhook_selectors.endpoints_of_user(user=self.request.user)

    @extend_schema(summary="Your webhook endpoints", responses={200: WebhookListResponse})
    def list(self, request):
        return Response({"webhooks": WebhookEndpointSerializer(self.get_queryset(), many=True).data})

    @extend_schema(
        summary="Register a webhook endpoint (its signing secret is shown only in this answer)",
        responses={201: WebhookCreatedResponse},
    )
    @raises(errors.CONFLICT)
    def create(self, request):
        created = webhook_services.webhook_endpoint_create(user=request.user, **self.validated_body())
        return Response(
            {"webhook": WebhookEndpointSerializer(created.endpoint).data, "secret": created.secret},
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(summary="Delete a webhook endpoint", responses={204: None})
    def destroy(self, request, webhook_id):
        endpoint = self.get_object()
        webhook_services.webhook_endpoint_delete(user=request.user, endpoint_id=endpoint.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="The last deliveries to an endpoint, with every attempt",
        responses={200: DeliveriesResponse},
    )
    @action(detail=True, methods=["get"])
    def deliveries(self, request, webhook_id):
        deliveries = webhook_selectors.recent_deliveries(endpoint=self.get_object())
        return Response({"deliveries": WebhookDeliverySerializer(deliveries, many=True).data})
