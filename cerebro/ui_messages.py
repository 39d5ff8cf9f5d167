"""The AI SDK 5 UI message stream: what ``POST /api/chat`` answers to requests in the app's shape.

Server-Sent Events whose ``data:`` lines are UI message chunks as compact JSON, ending with
``data: [DONE]`` (the SDK's ``JsonToSseTransformStream``), under the headers its
``createUIMessageStreamResponse`` sends. The SDK validates every chunk against a strict schema
(no extra keys), so each chunk here carries exactly the keys that schema allows::

    data: {"type":"start","messageId":"<the assistant message's id>"}
    data: {"type":"start-step"}
    data: {"type":"text-start","id":"<part id>"}
    data: {"type":"text-delta","id":"<part id>","delta":"Hello"}
    data: {"type":"text-end","id":"<part id>"}
    data: {"type":"finish-step"}
    data: {"type":"finish"}
    data: [DONE]

A model failure ends the text part and sends ``{"type":"error","errorText":...}`` instead of the
finish chunks.
"""

from __future__ import annotations

import json
from typing import Any

HEADERS = {
    "Cache-Control": "no-cache, no-transform",
    "X-Vercel-AI-UI-Message-Stream": "v1",
    "X-Accel-Buffering": "no",
}
CONTENT_TYPE = "text/event-stream; charset=utf-8"
DONE = b"data: [DONE]\n\n"


def frame(chunk: dict[str, Any]) -> bytes:
    """One chunk as an SSE event, written as JavaScript's ``JSON.stringify`` writes it."""
    return b"data: " + json.dumps(chunk, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


def start(message_id: str) -> bytes:
    return frame({"type": "start", "messageId": message_id})


def start_step() -> bytes:
    return frame({"type": "start-step"})


def text_start(part_id: str) -> bytes:
    return frame({"type": "text-start", "id": part_id})


def text_delta(part_id: str, delta: str) -> bytes:
    return frame({"type": "text-delta", "id": part_id, "delta": delta})


def text_end(part_id: str) -> bytes:
    return frame({"type": "text-end", "id": part_id})


def finish_step() -> bytes:
    return frame({"type": "finish-step"})


def finish() -> bytes:
    return frame({"type": "finish"})


def error(text: str) -> bytes:
    return frame({"type": "error", "errorText": text})


def data_part(name: str, data: Any, *, transient: bool = False) -> bytes:
    """A ``data-<name>`` part (the app's ``data-appendMessage`` restores a finished answer)."""
    chunk: dict[str, Any] = {"type": f"data-{name}", "data": data}
    if transient:
        chunk["transient"] = True
    return frame(chunk)
