"""Chat turns: persist the chat and the user's message, build the prompt with the working set,
then persist the assistant's answer once it has been streamed; delete chats.

Two request shapes start a turn. The spec's client sends the whole conversation
(``messages: [{role, content}]``) and the prompt is what it sent; the minicontratos app sends only
its new message as AI SDK UI parts (``message: {id, role, parts}``), so the conversation comes from
the stored chat.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from cerebro import conf
from cerebro.errors import CHAT_NOT_FOUND, CHAT_OF_ANOTHER_USER, MESSAGE_ID_TAKEN
from cerebro.models import Chat, ChatMessage
from cerebro.selectors.memory import memory_working_set
from cerebro.services.attachments import attachment_content_parts
from cerebro.services.memory import memory_content, render_memory
from core.errors import ErrorType

TITLE_LENGTH = 80
SYSTEM_PROMPT = (
    "You are the assistant of minicontratos. Use what you know about the user when it helps; "
    "never invent facts about them."
)


@dataclass(frozen=True)
class ChatTurn:
    chat_id: str
    prompt: list[dict[str, Any]]
    model: str | None
    memory_count: int
    memory_tokens: int
    # The id the assistant's answer will be stored under (announced first in the app's stream).
    assistant_message_id: str = ""


def title_from(text: str) -> str:
    words = " ".join(text.split())
    return (words[: TITLE_LENGTH - 1] + "…") if len(words) > TITLE_LENGTH else (words or "New chat")


def memory_prompt(memories) -> str:
    """The system message part that carries the working set (never a secret or pii memory: the
    working set excludes them)."""
    lines = [f"- {render_memory(memory.key, memory_content(memory))}" for memory in memories]
    return "What you remember about the user (most relevant first):\n" + "\n".join(lines)


def _chat_for_turn(
    *, user, chat_id, first_text: str, model_id: str | None, visibility: str | None, foreign: ErrorType
) -> Chat:
    """The user's chat ``chat_id``, locked, created on its first message; ``foreign`` when it is
    another user's."""
    chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
    if chat is not None and chat.user_id != user.pk:
        raise foreign(details={"id": str(chat_id)})
    if chat is None:
        return Chat.objects.create(
            id=chat_id,
            user=user,
            title=title_from(first_text),
            visibility=visibility or Chat.Visibility.PRIVATE,
            model_id=model_id or "",
        )
    chat.model_id = model_id or chat.model_id
    if visibility:
        chat.visibility = visibility
    chat.save(update_fields=["model_id", "visibility", "updated_at"])
    return chat


def _system_message(*, user, chat: Chat, conversation: str) -> tuple[dict[str, str], int, int]:
    working_set = memory_working_set(
        user=user, chat_id=chat.pk, max_tokens=conf.TOKEN_BUDGET, conversation=conversation
    )
    system = SYSTEM_PROMPT
    if working_set.memories:
        system = f"{SYSTEM_PROMPT}\n\n{memory_prompt(working_set.memories)}"
    return {"role": "system", "content": system}, len(working_set.memories), working_set.total_tokens


@transaction.atomic
def chat_turn_begin(
    *, user, chat_id, messages: Sequence[dict[str, str]], model_id: str | None, visibility: str | None = None
) -> ChatTurn:
    """Record the user's new message (the last of ``messages``) in the chat ``chat_id``, creating
    the chat on its first message, and return the prompt for the model: a system message with
    the user's working set (within the token budget), then ``messages`` as the client sent them.

    404 when ``chat_id`` belongs to another user.
    """
    first_user_text = next((m["content"] for m in messages if m["role"] == "user"), "")
    chat = _chat_for_turn(
        user=user,
        chat_id=chat_id,
        first_text=first_user_text,
        model_id=model_id,
        visibility=visibility,
        foreign=CHAT_NOT_FOUND,
    )
    ChatMessage.objects.create(chat=chat, role=messages[-1]["role"], content=messages[-1]["content"])

    recent = "\n".join(m["content"] for m in messages[-conf.CONTEXT_RECENT_MESSAGES :])
    system, memory_count, memory_tokens = _system_message(user=user, chat=chat, conversation=recent)
    prompt = [system, *({"role": m["role"], "content": m["content"]} for m in messages)]
    return ChatTurn(
        chat_id=str(chat.pk),
        prompt=prompt,
        model=model_id or None,
        memory_count=memory_count,
        memory_tokens=memory_tokens,
    )


@transaction.atomic
def chat_turn_begin_from_parts(
    *,
    user,
    chat_id,
    message_id,
    parts: list[dict[str, Any]],
    chat_model: str,
    visibility: str,
) -> ChatTurn:
    """Record the app's new user message (``message_id`` and its UI ``parts``: text and files) in
    the chat ``chat_id``, creating the chat on its first message, and return the prompt: the
    system message with the working set, the chat's earlier messages (at most
    ``CEREBRO_CHAT_HISTORY_MESSAGES``), then the new message: its text, and its files as content
    parts (cerebro/services/attachments.py: 400 for a file that is not the user's upload).

    A ``message_id`` the chat already holds is the client sending that message again (the AI SDK's
    regenerate): the chat continues from it, and the messages after it, which the client no longer
    shows, are deleted. 403 when the chat is another user's, 409 when another chat holds the id.
    """
    text = "\n".join(part["text"] for part in parts if part["type"] == "text")
    files = attachment_content_parts(user=user, urls=[part["url"] for part in parts if part["type"] == "file"])
    model_content: str | list[dict[str, Any]] = [{"type": "text", "text": text}, *files] if files else text
    chat = _chat_for_turn(
        user=user,
        chat_id=chat_id,
        first_text=text,
        model_id=chat_model,
        visibility=visibility,
        foreign=CHAT_OF_ANOTHER_USER,
    )
    existing = ChatMessage.objects.filter(pk=message_id).first()
    if existing is not None and (existing.chat_id != chat.pk or existing.role != ChatMessage.Role.USER):
        raise MESSAGE_ID_TAKEN(details={"messageId": str(message_id)})
    if existing is None:
        current = ChatMessage.objects.create(id=message_id, chat=chat, role="user", content=text, parts=parts)
    else:
        current = existing
        chat.messages.filter(created_at__gt=existing.created_at).delete()
    earlier = list(
        chat.messages.filter(created_at__lt=current.created_at)
        .exclude(pk=current.pk)
        .order_by("-created_at")
        .values_list("role", "content")[: conf.CHAT_HISTORY_MESSAGES]
    )[::-1]

    recent = "\n".join([content for _, content in earlier[-(conf.CONTEXT_RECENT_MESSAGES - 1) :]] + [text])
    system, memory_count, memory_tokens = _system_message(user=user, chat=chat, conversation=recent)
    prompt = [
        system,
        *({"role": role, "content": content} for role, content in earlier),
        {"role": "user", "content": model_content},
    ]
    return ChatTurn(
        chat_id=str(chat.pk),
        prompt=prompt,
        model=conf.CHAT_MODELS.get(chat_model) or None,
        memory_count=memory_count,
        memory_tokens=memory_tokens,
        assistant_message_id=str(uuid.uuid4()),
    )


def chat_turn_finish(
    *,
    chat_id: str,
    text: str,
    provider: str,
    model: str,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    usage_estimated: bool,
    complete: bool,
    message_id: str | None = None,
) -> ChatMessage:
    """Store the assistant's answer (``complete=False`` when the stream stopped early), under
    ``message_id`` when the client was told it (the app's stream announces it first)."""
    with transaction.atomic():
        message = ChatMessage.objects.create(
            id=message_id or uuid.uuid4(),
            chat_id=chat_id,
            role=ChatMessage.Role.ASSISTANT,
            content=text,
            parts=[{"type": "text", "text": text}] if message_id else [],
            provider=provider,
            model=model[:100],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            usage_estimated=usage_estimated,
            complete=complete,
        )
        Chat.objects.filter(pk=chat_id).update(updated_at=message.created_at)
    return message


@transaction.atomic
def chat_delete(*, user, chat_id) -> Chat:
    """Delete the user's chat with its messages and votes, and return it as it was.

    404 for an unknown chat, 403 for another user's.
    """
    chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
    if chat is None:
        raise CHAT_NOT_FOUND(details={"id": str(chat_id)})
    if chat.user_id != user.pk:
        raise CHAT_OF_ANOTHER_USER(details={"id": str(chat_id)})
    deleted = Chat(
        id=chat.pk,
        user_id=chat.user_id,
        title=chat.title,
        visibility=chat.visibility,
        model_id=chat.model_id,
        created_at=chat.created_at,
        updated_at=chat.updated_at,
    )
    chat.delete()
    return deleted


@transaction.atomic
def chat_delete_all(*, user) -> int:
    """Delete every chat of the user (messages and votes with them); the number of chats deleted."""
    _, deleted = Chat.objects.filter(user=user).delete()
    return deleted.get(Chat._meta.label, 0)
