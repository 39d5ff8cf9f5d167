"""The language-model provider layer coder and cerebro share.

    from core.llm import get_provider

    provider = get_provider()
    completion = provider.complete([{"role": "user", "content": "Hello"}])
    record(provider=completion.provider, model=completion.model, usage=completion.usage)

    async for chunk in provider.astream(messages):      # in an async SSE view
        ...

``get_provider()`` returns an ``OpenAICompatibleProvider`` (built on the official ``openai``
package) when ``LLM_BASE_URL`` is set and the ``OfflineProvider`` otherwise; ``provider.name``
says which. Failures raise ``LanguageModelError`` (``EXTERNAL_API_ERROR``, 502). See docs/llm.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from core.llm.errors import LanguageModelError
from core.llm.offline import OFFLINE_PREFIX, OfflineProvider
from core.llm.types import ChatProvider, Completion, Message, StreamChunk, Usage

if TYPE_CHECKING:
    from core.llm.openai_compatible import OpenAICompatibleProvider

__all__ = [
    "OFFLINE_PREFIX",
    "ChatProvider",
    "Completion",
    "LanguageModelError",
    "Message",
    "OfflineProvider",
    "OpenAICompatibleProvider",
    "StreamChunk",
    "Usage",
    "get_provider",
]


def _openai_compatible_provider() -> type[OpenAICompatibleProvider]:
    # Importing the openai package costs about half a second of CPU, so it waits until a model is
    # configured: a process that never talks to one (offline, or an app without one) never pays.
    from core.llm.openai_compatible import OpenAICompatibleProvider

    return OpenAICompatibleProvider


def __getattr__(name: str) -> Any:
    if name == "OpenAICompatibleProvider":
        return _openai_compatible_provider()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_provider() -> ChatProvider:
    """The provider the settings ask for, built fresh from the current settings.

    ``LLM_BASE_URL`` empty -> ``OfflineProvider``; otherwise an ``OpenAICompatibleProvider`` using
    ``LLM_API_KEY``, ``LLM_DEFAULT_MODEL``, ``LLM_TIMEOUT_SECONDS`` and ``LLM_MAX_RETRIES``.
    Raises ``ImproperlyConfigured`` when ``LLM_BASE_URL`` is not an http(s) URL.
    """
    base_url = (settings.LLM_BASE_URL or "").strip()
    if not base_url:
        return OfflineProvider()
    try:
        return _openai_compatible_provider()(
            base_url=base_url,
            api_key=settings.LLM_API_KEY or "",
            default_model=settings.LLM_DEFAULT_MODEL,
            timeout_seconds=settings.LLM_TIMEOUT_SECONDS,
            max_retries=settings.LLM_MAX_RETRIES,
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"LLM_BASE_URL: {exc}") from None
