"""``/webhooks``: the signed-in user's webhook endpoints and their delivery log."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.selectors import webhooks as webhook_selectors
from marketplace.serializers.inputs import WebhookCreateSerializer
from marketplace.serializers.outputs import WebhookDeliverySerializer, WebhookEndpointSerializer
from marketplace.services import webhooks as webhook_services
from marketplace.views.base import MarketplaceView, errors_for

WebhookListResponse = inline_serializer("MarketplaceWebhookList", {"webhooks": WebhookEndpointSerializer(many=True)})
WebhookCreatedResponse = inline_serializer(
    "MarketplaceWebhookCreated", {"webhook": WebhookEndpointSerializer(), "secret": serializers.CharField()}
)
DeliveriesResponse = inline_serializer(
    "MarketplaceWebhookDeliveries", {"deliveries": WebhookDeliverySerializer(many=True)}
)


class WebhookListView(MarketplaceView):
    @extend_schema(summary="Your webhook endpoints", responses={200: WebhookListResponse, **errors_for(401)})
    def get(self, request):
        endpoints = webhook_selectors.endpoints_of_user(user=request.user)
        return Response({"webhooks": WebhookEndpointSerializer(endpoints, many=True).data})

    @extend_schema(
        summary="Register a webhook endpoint (its signing secret is shown only in this answer)",
        request=WebhookCreateSerializer,
        responses={201: WebhookCreatedResponse, **errors_for(400, 401, 409)},
    )
    def post(self, request):
        body = WebhookCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = webhook_services.webhook_endpoint_create(user=request.user, **body.validated_data)
        return Response(
            {"webhook": WebhookEndpointSerializer(created.endpoint).data, "secret": created.secret},
            status=status.HTTP_201_CREATED,
        )


class WebhookDetailView(MarketplaceView):
    @extend_schema(summary="Delete a webhook endpoint", responses={204: None, **errors_for(401, 404)})
    def delete(self, request, webhook_id):
        webhook_services.webhook_endpoint_delete(user=request.user, endpoint_id=webhook_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookDeliveriesView(MarketplaceView):
    @extend_schema(
        summary="The last deliveries to an endpoint, with every attempt",
        responses={200: DeliveriesResponse, **errors_for(401, 404)},
    )
    def get(self, request, webhook_id):
        endpoint = webhook_selectors.endpoint_get_for_user(user=request.user, endpoint_id=webhook_id)
        deliveries = webhook_selectors.recent_deliveries(endpoint=endpoint)
        return Response({"deliveries": WebhookDeliverySerializer(deliveries, many=True).data})
