"""The user's chats for GET /api/history."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from cerebro.models import Chat


def chat_history(*, user) -> QuerySet[Chat]:
    """The user's chats, most recently active first, each with its ``message_count``."""
    return Chat.objects.filter(user=user).annotate(message_count=Count("messages")).order_by("-updated_at", "-pk")
