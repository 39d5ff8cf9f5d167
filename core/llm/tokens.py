"""Token estimates for when no server counted them (offline provider, servers without usage).

About four characters per token is what OpenAI documents for English text; the per-message
overhead mirrors the chat format's role and separator tokens. Results built from these numbers
are always marked ``estimated``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from core.llm.types import Message, Usage

CHARACTERS_PER_TOKEN = 4
TOKENS_PER_MESSAGE = 4


def estimate_tokens(text: str) -> int:
    """A non-negative estimate of the tokens in ``text``: 0 for empty text, at least 1 otherwise."""
    if not text:
        return 0
    return max(1, math.ceil(len(text) / CHARACTERS_PER_TOKEN))


def message_text(message: Message) -> str:
    """The text of one message, whether ``content`` is a string or a list of OpenAI content parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    """An estimate of the prompt tokens of ``messages`` including the chat format's overhead."""
    return sum(TOKENS_PER_MESSAGE + estimate_tokens(message_text(message)) for message in messages)


def estimated_usage(messages: Sequence[Message], completion_text: str) -> Usage:
    """Usage estimated from the request and the answer, labelled ``estimated=True``."""
    prompt = estimate_prompt_tokens(messages)
    completion = estimate_tokens(completion_text)
    return Usage(prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion, estimated=True)
