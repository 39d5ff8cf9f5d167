"""Chat turns: persist the chat and the user's message, build the prompt with the working set,
then persist the assistant's answer once it has been streamed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from cerebro import conf
from cerebro.errors import CHAT_NOT_FOUND
from cerebro.models import Chat, ChatMessage
from cerebro.selectors.memory import memory_working_set
from cerebro.services.memory import memory_content, render_memory

TITLE_LENGTH = 80
SYSTEM_PROMPT = (
    "You are the assistant of minicontratos. Use what you know about the user when it helps; "
    "never invent facts about them."
)


@dataclass(frozen=True)
class ChatTurn:
    chat_id: str
    prompt: list[dict[str, str]]
    model: str | None
    memory_count: int
    memory_tokens: int


def title_from(text: str) -> str:
    words = " ".join(text.split())
    return (words[: TITLE_LENGTH - 1] + "…") if len(words) > TITLE_LENGTH else (words or "New chat")


def memory_prompt(memories) -> str:
    """The system message part that carries the working set (never a secret or pii memory: the
    working set excludes them)."""
    lines = [f"- {render_memory(memory.key, memory_content(memory))}" for memory in memories]
    return "What you remember about the user (most relevant first):\n" + "\n".join(lines)


@transaction.atomic
def chat_turn_begin(
    *, user, chat_id, messages: Sequence[dict[str, str]], model_id: str | None, visibility: str | None = None
) -> ChatTurn:
    """Record the user's new message (the last of ``messages``) in the chat ``chat_id``, creating
    the chat on its first message, and return the prompt for the model: a system message with
    the user's working set (within the token budget), then ``messages`` as the client sent them.

    404 when ``chat_id`` belongs to another user.
    """
    chat = Chat.objects.select_for_update().filter(pk=chat_id).first()
    if chat is not None and chat.user_id != user.pk:
        raise CHAT_NOT_FOUND(details={"id": str(chat_id)})
    first_user_text = next((m["content"] for m in messages if m["role"] == "user"), "")
    if chat is None:
        chat = Chat.objects.create(
            id=chat_id,
            user=user,
            title=title_from(first_user_text),
            visibility=visibility or Chat.Visibility.PRIVATE,
            model_id=model_id or "",
        )
    else:
        chat.model_id = model_id or chat.model_id
        if visibility:
            chat.visibility = visibility
        chat.save(update_fields=["model_id", "visibility", "updated_at"])
    ChatMessage.objects.create(chat=chat, role=messages[-1]["role"], content=messages[-1]["content"])

    recent = "\n".join(m["content"] for m in messages[-conf.CONTEXT_RECENT_MESSAGES :])
    working_set = memory_working_set(user=user, chat_id=chat.pk, max_tokens=conf.TOKEN_BUDGET, conversation=recent)
    system = SYSTEM_PROMPT
    if working_set.memories:
        system = f"{SYSTEM_PROMPT}\n\n{memory_prompt(working_set.memories)}"
    prompt = [{"role": "system", "content": system}, *({"role": m["role"], "content": m["content"]} for m in messages)]
    return ChatTurn(
        chat_id=str(chat.pk),
        prompt=prompt,
        model=model_id or None,
        memory_count=len(working_set.memories),
        memory_tokens=working_set.total_tokens,
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
) -> ChatMessage:
    """Store the assistant's answer (``complete=False`` when the stream stopped early)."""
    with transaction.atomic():
        message = ChatMessage.objects.create(
            chat_id=chat_id,
            role=ChatMessage.Role.ASSISTANT,
            content=text,
            provider=provider,
            model=model[:100],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            usage_estimated=usage_estimated,
            complete=complete,
        )
        Chat.objects.filter(pk=chat_id).update(updated_at=message.created_at)
    return message
