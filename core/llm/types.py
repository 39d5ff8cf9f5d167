"""Result types and the provider interface every language-model provider implements.

Messages are plain OpenAI-style dicts (``{"role": "user", "content": "..."}``) so callers build
them without importing anything from here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

Message = Mapping[str, Any]


@dataclass(frozen=True)
class Usage:
    """Token counts of one request. ``estimated`` is True when no server counted them."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    estimated: bool = False

    def as_dict(self) -> dict[str, int | bool]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "estimated": self.estimated,
        }


@dataclass(frozen=True)
class Completion:
    """A whole answer: its text, the model that wrote it, what it cost and why it stopped."""

    text: str
    model: str
    usage: Usage
    provider: str
    finish_reason: str | None = None


@dataclass(frozen=True)
class StreamChunk:
    """One piece of a streamed answer.

    Content chunks carry ``delta`` only. The last chunk of every stream has an empty ``delta``
    and carries ``usage`` (always set there, possibly estimated), ``finish_reason`` and ``model``.
    """

    delta: str
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None

    @property
    def is_final(self) -> bool:
        return self.usage is not None


@runtime_checkable
class ChatProvider(Protocol):
    """What coder and cerebro call. Every method raises ``LanguageModelError`` on failure.

    ``name`` is ``"openai-compatible"`` or ``"offline"`` so callers can record who answered.
    ``complete``/``stream`` are for sync code (Celery tasks, WSGI views); ``acomplete``/``astream``
    for async code (an ASGI SSE view) and never block the event loop.
    """

    name: str
    default_model: str

    def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion: ...

    def stream(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Iterator[StreamChunk]: ...

    async def acomplete(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> Completion: ...

    def astream(
        self,
        messages: Sequence[Message],
        *,
        model: str | None = None,
        temperature: float | None = None,
        max_tokens: int | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[StreamChunk]: ...
