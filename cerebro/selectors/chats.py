"""Reads of one chat for the app's endpoints: who may see it, its votes, an answer to restore."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cerebro import conf
from cerebro.errors import CHAT_NOT_FOUND, CHAT_OF_ANOTHER_USER
from cerebro.models import Chat, ChatMessage, Vote
from core.fields import js_timestamp


def chat_of_user(*, user, chat_id) -> Chat:
    """The user's chat: 404 when there is none, 403 when it is another user's (the app's answers)."""
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is None:
        raise CHAT_NOT_FOUND(details={"id": str(chat_id)})
    if chat.user_id != user.pk:
        raise CHAT_OF_ANOTHER_USER(details={"id": str(chat_id)})
    return chat


def chat_readable_by(*, user, chat_id) -> Chat:
    """A chat the user may follow: their own, or anyone's that is public."""
    chat = Chat.objects.filter(pk=chat_id).first()
    if chat is not None and chat.visibility == Chat.Visibility.PUBLIC:
        return chat
    return chat_of_user(user=user, chat_id=chat_id)


def chat_votes(*, user, chat_id) -> list[Vote]:
    chat = chat_of_user(user=user, chat_id=chat_id)
    return list(Vote.objects.filter(chat=chat).order_by("updated_at", "pk"))


def ui_message(message: ChatMessage) -> dict:
    """A stored message as the app keeps one (its UI parts; text for messages stored without)."""
    return {
        "id": str(message.id),
        "chatId": str(message.chat_id),
        "role": message.role,
        "parts": message.parts or [{"type": "text", "text": message.content}],
        "attachments": [],
        "createdAt": js_timestamp(message.created_at),
    }


def chat_answer_to_restore(*, chat: Chat) -> dict | None:
    """The chat's last message when it is an answer that finished within
    ``CEREBRO_CHAT_RESTORE_SECONDS`` (a client that reloaded as it ended has not seen it whole)."""
    last = ChatMessage.objects.filter(chat=chat).order_by("-created_at").first()
    if last is None or last.role != ChatMessage.Role.ASSISTANT:
        return None
    if last.created_at < timezone.now() - timedelta(seconds=conf.CHAT_RESTORE_SECONDS):
        return None
    return ui_message(last)
