"""Reads about a user's webhook endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from marketplace.errors import WEBHOOK_NOT_FOUND
from marketplace.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoints_of_user(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user).order_by("-created_at")


def endpoint_get_for_user(*, user, endpoint_id) -> WebhookEndpoint:
    endpoint = endpoints_of_user(user=user).filter(pk=endpoint_id).first()
    if endpoint is None:
        raise WEBHOOK_NOT_FOUND()
    return endpoint


def recent_deliveries(*, endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related("attempt_rows")
        .order_by("-created_at")[:RECENT_DELIVERIES]
    )
