"""Success answers in the Async Coder envelope. Errors are rendered by core's exception handler
(``core.envelopes.CODER``); views never shape an error by hand."""

from __future__ import annotations

from typing import Any

from rest_framework.response import Response


def ok(data: Any, meta: dict | None = None, status: int = 200) -> Response:
    """``{"success": true, "data": data, "error": null}``, plus ``meta`` for paginated lists."""
    body: dict[str, Any] = {"success": True, "data": data, "error": None}
    if meta is not None:
        body["meta"] = meta
    return Response(body, status=status)
