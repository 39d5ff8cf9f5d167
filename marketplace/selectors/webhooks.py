"""Reads about a user's webhook endpoints and their delivery log."""

from __future__ import annotations

from django.db.models import QuerySet

from marketplace.models import WebhookDelivery, WebhookEndpoint

RECENT_DELIVERIES = 50


def endpoints_of_user(*, user) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(user=user).order_by("-created_at")


def recent_deliveries(*, endpoint: WebhookEndpoint) -> list[WebhookDelivery]:
    return list(
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .prefetch_related("attempt_rows")
        .order_by("-created_at")[:RECENT_DELIVERIES]
    )
