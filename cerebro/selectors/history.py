"""The user's chats for GET /api/history: offset pages (the spec) and cursor pages (the app)."""

from __future__ import annotations

from django.db.models import Count, QuerySet

from cerebro.errors import HISTORY_CURSOR_NOT_FOUND
from cerebro.models import Chat
from core.pagination import CursorPage, paginate_cursor


def chat_history(*, user) -> QuerySet[Chat]:
    """The user's chats, most recently active first, each with its ``message_count``."""
    return Chat.objects.filter(user=user).annotate(message_count=Count("messages")).order_by("-updated_at", "-pk")


def chat_history_page(*, user, limit: int, ending_before=None, starting_after=None) -> CursorPage:
    """``limit`` of the user's chats in ``chat_history``'s order, with whether more follow.

    In the app's words (the reverse of core.pagination's, which are Stripe's): ``ending_before``
    names the last chat of the page before, and the page is the chats that follow it (older);
    ``starting_after`` the first chat of the page after, and the page is the chats right before it
    (newer), still newest first. The order is total (last activity, then id), so the pages neither
    repeat nor skip a chat, and following ``ending_before`` reaches the oldest. 404 when the cursor
    is not one of the user's chats.
    """
    chats = chat_history(user=user)
    cursor_id = ending_before or starting_after
    cursor = None
    if cursor_id is not None:
        cursor = Chat.objects.filter(pk=cursor_id, user=user).only("pk", "updated_at").first()
        if cursor is None:
            raise HISTORY_CURSOR_NOT_FOUND(details={"cursor": str(cursor_id)})
    return paginate_cursor(
        chats,
        order_field="updated_at",
        limit=limit,
        after=cursor if ending_before is not None else None,
        before=cursor if starting_after is not None else None,
    )
