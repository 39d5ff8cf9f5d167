"""The JSON bodies every API reads: parsed once, and refused (a 400) when no API could keep them.

A body is refused when it is not JSON, nests deeper than ``MAX_JSON_DEPTH``, or holds a lone UTF-16
surrogate (``"\\ud800"``: valid JSON text, but no UTF-8 encoding exists for it, so it could be
neither stored nor hashed nor answered). Without the depth limit, a body nested a few hundred
levels deep was stored and then broke every answer holding it (the renderer stops at 255 levels),
and a few thousand levels deep it was a ``RecursionError`` (a 500).

Numbers keep the standard library's reading (any size of integer: the ledger keeps what clients
send), but must be finite: the literals ``NaN``/``Infinity`` are not JSON, and a number out of a
double's range (``1e400``) is refused too rather than read as infinity, which no JSON answer or
hash can write down. Telemetry's parser reads with orjson for speed (it refuses both itself) and
applies the same checks.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

# Deeper than any document a client of these APIs sends, and far below the renderer's limit (255).
MAX_JSON_DEPTH = 64

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = "Text must be valid Unicode (a lone surrogate was sent)"
_CONTAINERS = (dict, list)


class JsonBodyError(ValueError):
    """A body that is not JSON, or that no API may keep (see the module's docstring)."""


def checked_json(value: Any) -> Any:
    """``value`` (parsed JSON) unchanged; ``JsonBodyError`` if it nests deeper than
    ``MAX_JSON_DEPTH`` or a string in it holds a lone surrogate. Iterative: any depth is safe."""
    checked_depth(value)
    if _holds_lone_surrogate(value):
        raise JsonBodyError(_LONE_SURROGATE)
    return value


def checked_depth(value: Any) -> Any:
    """``value`` (parsed JSON) unchanged; ``JsonBodyError`` if its arrays and objects nest deeper
    than ``MAX_JSON_DEPTH``. Level by level over the containers alone: a batch of 1000 learnings
    has a few thousand of them and tens of thousands of strings and numbers, never visited."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > MAX_JSON_DEPTH:
            raise JsonBodyError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        level = [
            child
            for container in level
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, _CONTAINERS)
        ]
    return value


def _holds_lone_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not item.isascii() and _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _may_hold_surrogates(raw: bytes | str) -> bool:
    """Whether the text of a body could parse into a lone surrogate: only through a ``\\uD800`` to
    ``\\uDFFF`` escape, or through text that is not ASCII (the standard library decodes bytes with
    ``surrogatepass``). Most bodies are neither, and skip the walk over every string."""
    if not raw.isascii():
        return True
    return _SURROGATE_ESCAPE.search(raw if isinstance(raw, bytes) else raw.encode("ascii")) is not None


def finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent as a float; ``ValueError`` if out of range."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"Number out of range: {text[:40]}")
    return value


def json_body(raw: bytes | str) -> Any:
    """The JSON value of a request body, checked (``checked_json``); ``JsonBodyError`` otherwise."""
    try:
        # NaN and Infinity are not JSON; 1e400 would read as infinity
        value = json.loads(raw, parse_constant=strict_constant, parse_float=finite_float)
    except RecursionError:
        raise JsonBodyError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except ValueError as exc:  # JSONDecodeError, and bytes that are not UTF-8
        raise JsonBodyError(f"JSON parse error - {exc}") from exc
    checked_depth(value)
    if _may_hold_surrogates(raw) and _holds_lone_surrogate(value):
        raise JsonBodyError(_LONE_SURROGATE)
    return value


class JsonParser(JSONParser):
    """DRF's JSON parser, reading with ``json_body``: a refused body is DRF's ``ParseError`` (a 400
    in each API's envelope)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return json_body(stream.read() if stream is not None else b"")
        except JsonBodyError as exc:
            raise ParseError(str(exc)) from exc
