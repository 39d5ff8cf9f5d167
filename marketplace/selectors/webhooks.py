"""Reads about a user's webhook endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from core import errors
from marketplace.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoints_of_user(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user).order_by("-created_at")


def endpoint_get_for_user(*, user, endpoint_id) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id, user=user).first()
    if endpoint is None:
        raise errors.NOT_FOUND("Webhook endpoint not found")
    return endpoint


def recent_deliveries(*, endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related("attempt_rows")
        .order_by("-created_at")[:RECENT_DELIVERIES]
    )
