"""Cutting client text to the lengths we store, marked so that a reader sees it was cut.

Nothing a client sends is refused for being long (the body limit bounds it): messages, stack
traces, event types, platform strings and the strings inside free-form objects are cut and end
with ``conf.TRUNCATION_MARK``. Callers scrub first and cut after: a secret cut in half before
scrubbing could slip past the rule that knows its whole shape.
"""

from __future__ import annotations

from typing import Any

import orjson

from analytics import conf

# Strings of a free-form object are never cut shorter than this to make the object fit.
MIN_STRING_LENGTH = 64


def cut(text: str, limit: int) -> str:
    """``text`` when it has at most ``limit`` characters, else its start and the mark (``limit`` in all)."""
    if len(text) <= limit:
        return text
    return text[: limit - len(conf.TRUNCATION_MARK)] + conf.TRUNCATION_MARK


def cut_strings(value: Any, limit: int) -> Any:
    """``value`` with every string value (not the keys) inside it cut to ``limit`` characters."""
    if isinstance(value, str):
        return cut(value, limit)
    if isinstance(value, dict):
        return {key: cut_strings(item, limit) for key, item in value.items()}
    if isinstance(value, list):
        return [cut_strings(item, limit) for item in value]
    return value


def serialized_size(value: Any) -> int:
    return len(orjson.dumps(value))


def fit_object(value: dict) -> dict:
    """A free-form object as stored: strings cut to ``MAX_STRING_LENGTH``, then halved until the
    object serialises within ``MAX_OBJECT_BYTES`` (never below ``MIN_STRING_LENGTH``).

    The request models refused objects that would not fit even with their strings at the
    minimum, so this only falls short by what scrubbing added (placeholders in keys).
    """
    limit = conf.MAX_STRING_LENGTH
    fitted = cut_strings(value, limit)
    while limit > MIN_STRING_LENGTH and serialized_size(fitted) > conf.MAX_OBJECT_BYTES:
        limit = max(limit // 2, MIN_STRING_LENGTH)
        fitted = cut_strings(value, limit)
    return fitted
