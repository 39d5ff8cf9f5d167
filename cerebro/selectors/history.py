"""The user's chats for GET /api/history: offset pages (the spec) and cursor pages (the app)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from cerebro.errors import HISTORY_CURSOR_NOT_FOUND
from cerebro.models import Chat


def chat_history(*, user) -> QuerySet[Chat]:
    """The user's chats, most recently active first, each with its ``message_count``."""
    return Chat.objects.filter(user=user).annotate(message_count=Count("messages")).order_by("-updated_at", "-pk")


def chat_history_page(*, user, limit: int, ending_before=None, starting_after=None) -> tuple[list[Chat], bool]:
    """``limit`` of the user's chats in ``chat_history``'s order, and whether there are more.

    ``ending_before``: the chats that come after that chat in the order (older); ``starting_after``:
    the ``limit`` chats right before it (newer), still newest first. The order is a total one
    (last activity, then id), so consecutive pages neither repeat nor skip a chat, and following
    ``ending_before`` from the last chat of each page reaches the oldest. 404 when the cursor is
    not one of the user's chats.
    """
    chats = chat_history(user=user)
    cursor_id = ending_before or starting_after
    if cursor_id is None:
        rows = list(chats[: limit + 1])
        return rows[:limit], len(rows) > limit
    cursor = Chat.objects.filter(pk=cursor_id, user=user).values("updated_at").first()
    if cursor is None:
        raise HISTORY_CURSOR_NOT_FOUND(details={"cursor": str(cursor_id)})
    moment = cursor["updated_at"]
    if ending_before is not None:
        rows = list(chats.filter(Q(updated_at__lt=moment) | Q(updated_at=moment, pk__lt=cursor_id))[: limit + 1])
        return rows[:limit], len(rows) > limit
    newer = chats.filter(Q(updated_at__gt=moment) | Q(updated_at=moment, pk__gt=cursor_id)).order_by("updated_at", "pk")
    rows = list(newer[: limit + 1])
    return rows[:limit][::-1], len(rows) > limit
