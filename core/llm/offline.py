"""The provider used when no language model is configured (``LLM_BASE_URL`` empty).

It never pretends to be a model: every answer, plain or streamed, starts with ``OFFLINE_PREFIX``
and says how to configure one, followed by a short deterministic summary of the request so that
flows (jobs, chats, streams, usage accounting) can be exercised end to end without a model.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from core.llm.tokens import estimated_usage, message_text
from core.llm.types import Completion, Message, StreamChunk

PROVIDER_NAME = "offline"
OFFLINE_MODEL = "offline"
OFFLINE_PREFIX = "[offline] No language model is configured (set LLM_BASE_URL)"
SUMMARY_WORDS = 12


def offline_answer(messages: Sequence[Message]) -> str:
    """The offline answer to ``messages``: always the same text for the same request."""
    user_texts = [message_text(m) for m in messages if m.get("role") == "user"]
    last = user_texts[-1] if user_texts else (message_text(messages[-1]) if messages else "")
    words = last.split()
    if words:
        opening = " ".join(words[:SUMMARY_WORDS]) + (" ..." if len(words) > SUMMARY_WORDS else "")
        summary = f'Your last message ({len(words)} words) begins: "{opening}".'
    else:
        summary = "Your request had no message text."
    noun = "message" if len(messages) == 1 else "messages"
    return f"{OFFLINE_PREFIX}, so this is not a model's answer. Request: {len(messages)} {noun}. {summary}"


def _pieces(text: str) -> list[str]:
    # Word-sized pieces with their trailing space, so joining the deltas gives the text back exactly.
    return re.findall(r"\S+\s*|\s+", text)


class OfflineProvider:
    """Answers without any model, labelled as such. Same interface as ``OpenAICompatibleProvider``."""

    name = PROVIDER_NAME
    default_model = OFFLINE_MODEL

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion:
        """The offline answer; usage is estimated (and marked so)."""
        text = offline_answer(messages)
        return Completion(
            text=text,
            model=OFFLINE_MODEL,
            usage=estimated_usage(messages, text),
            provider=self.name,
            finish_reason="stop",
        )

    def stream(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[StreamChunk]:
        """The offline answer word by word, then a final chunk with usage, like a real stream."""
        text = offline_answer(messages)
        for piece in _pieces(text):
            yield StreamChunk(delta=piece)
        yield StreamChunk(delta="", usage=estimated_usage(messages, text), finish_reason="stop", model=OFFLINE_MODEL)

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion:
        """``complete`` for async code."""
        return self.complete(messages)

    async def astream(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StreamChunk]:
        """``stream`` for async code; yields to the event loop between chunks."""
        for chunk in self.stream(messages):
            yield chunk
            await asyncio.sleep(0)
