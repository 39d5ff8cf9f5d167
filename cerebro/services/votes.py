"""Votes on the answers of a chat."""

from __future__ import annotations

from django.db import transaction

from cerebro.errors import MESSAGE_NOT_IN_CHAT
from cerebro.models import ChatMessage, Vote
from cerebro.selectors.chats import chat_of_user


@transaction.atomic
def vote_cast(*, user, chat_id, message_id, upvoted: bool) -> Vote:
    """Record the user's vote on a message of their chat, replacing their earlier vote on it.

    404 for an unknown chat or a message that is not in it, 403 for another user's chat.
    """
    chat = chat_of_user(user=user, chat_id=chat_id)
    message = ChatMessage.objects.filter(pk=message_id, chat=chat).first()
    if message is None:
        raise MESSAGE_NOT_IN_CHAT(details={"messageId": str(message_id)})
    vote, _ = Vote.objects.update_or_create(message=message, defaults={"chat": chat, "is_upvoted": upvoted})
    return vote
