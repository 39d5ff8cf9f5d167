"""POST /api/chat: the chat turn streamed as Server-Sent Events from an async view.

The view is a plain async Django view (DRF views are synchronous): while the answer streams, the
request holds no thread, only a coroutine awaiting the model (core.llm's ``astream`` over httpx).
Database work (authentication, rate limit, persisting the chat) runs briefly in Django's
thread-sensitive executor before and after. Errors before the stream starts are answered in the
spec's JSON envelope through the same helpers the DRF views use (core.exceptions); a model
failure after it started ends the stream with an ``event: error`` frame.

Frames, exactly as the spec shows them::

    event: message
    data: {"type":"text","content":"Hello!"}

    event: done
    data: {"usage":{"tokens":150,...},"chatId":"...","provider":"offline","model":"offline"}
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from cerebro.api import error_responses
from cerebro.authentication import AUTHENTICATION_CLASSES, authenticate_request
from cerebro.serializers.chat import ChatInput
from cerebro.services.chat import ChatTurn, chat_turn_begin, chat_turn_finish
from core import errors, ratelimit
from core.envelopes import envelope_for_path
from core.exceptions import render_exception
from core.llm import LanguageModelError, get_provider

logger = logging.getLogger(__name__)

CHAT_SCOPE = "cerebro.chat"


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def _prepare(request: HttpRequest) -> tuple[ChatTurn, ratelimit.RateLimitResult]:
    """Authenticate, count against ``cerebro.chat``, validate and record the user's message."""
    user = authenticate_request(request)
    if user is None:
        raise errors.UNAUTHORIZED("Sign in with the NextAuth session cookie or a bearer token")
    request.user = user
    limit = ratelimit.enforce(request, CHAT_SCOPE)
    try:
        payload = json.loads(request.body or b"null")
    except ValueError:
        raise errors.BAD_REQUEST("The body is not valid JSON") from None
    body = ChatInput(data=payload if isinstance(payload, dict) else {})
    body.is_valid(raise_exception=True)
    data = body.validated_data
    turn = chat_turn_begin(
        user=user,
        chat_id=data.get("id") or uuid.uuid4(),
        messages=data["messages"],
        model_id=data.get("modelId") or None,
        visibility=data.get("visibility"),
    )
    return turn, limit


async def _answer(turn: ChatTurn) -> AsyncIterator[bytes]:
    provider = get_provider()
    pieces: list[str] = []
    final = None
    failure: LanguageModelError | None = None
    try:
        async for chunk in provider.astream(turn.prompt, model=turn.model):
            if chunk.delta:
                pieces.append(chunk.delta)
                yield sse("message", {"type": "text", "content": chunk.delta})
            if chunk.is_final:
                final = chunk
    except LanguageModelError as exc:
        failure = exc
    except asyncio.CancelledError:
        # The client went away: keep what was said, marked incomplete, then stop.
        await asyncio.shield(_finish(turn, provider.name, "".join(pieces), None, complete=False))
        raise
    await _finish(turn, provider.name, "".join(pieces), final, complete=failure is None)
    if failure is not None:
        yield sse("error", {"error": "external_api_error", "message": failure.message, "details": failure.details})
        return
    usage = final.usage if final is not None else None
    yield sse(
        "done",
        {
            "usage": {
                "tokens": usage.total_tokens if usage else 0,
                "promptTokens": usage.prompt_tokens if usage else 0,
                "completionTokens": usage.completion_tokens if usage else 0,
                "estimated": usage.estimated if usage else True,
            },
            "chatId": turn.chat_id,
            "provider": provider.name,
            "model": (final.model if final is not None and final.model else turn.model) or provider.default_model,
            "memories": turn.memory_count,
        },
    )


async def _finish(turn: ChatTurn, provider_name: str, text: str, final, *, complete: bool) -> None:
    usage = final.usage if final is not None else None
    try:
        await sync_to_async(chat_turn_finish)(
            chat_id=turn.chat_id,
            text=text,
            provider=provider_name,
            model=(final.model if final is not None and final.model else turn.model) or "",
            prompt_tokens=usage.prompt_tokens if usage else None,
            completion_tokens=usage.completion_tokens if usage else None,
            usage_estimated=usage.estimated if usage else True,
            complete=complete,
        )
    except Exception:
        logger.exception("could not store the assistant's answer", extra={"chat_id": turn.chat_id})


@csrf_exempt  # cookie callers are checked by Origin in NextAuthSessionAuthentication
async def chat_view(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        response = render_exception(request, errors.METHOD_NOT_ALLOWED(f'Method "{request.method}" not allowed.'))
        response["Allow"] = "POST"
        return response
    try:
        turn, limit = await sync_to_async(_prepare)(request)
    except Exception as exc:
        response = render_exception(request, exc)
        if response.status_code == 401:
            response["WWW-Authenticate"] = 'Bearer realm="api"'
        return response
    response = StreamingHttpResponse(_answer(turn), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    limit.apply_headers(response, envelope_for_path(request.path))
    return response


# One Server-Sent Event of the chat stream, as a client's SSE parser reads it: its name and its
# data line (a JSON document: {"type": "text", "content": ...}, {"usage": {...}} or {"error": ...}).
ChatStreamEvent = inline_serializer(
    "CerebroChatStreamEvent",
    {
        "event": serializers.ChoiceField(choices=["message", "done", "error"]),
        "data": serializers.CharField(help_text="A JSON document"),
    },
)


class ChatSchemaView(APIView):
    """Describes POST /api/chat in the OpenAPI document; requests are served by ``chat_view``."""

    authentication_classes = AUTHENTICATION_CLASSES
    permission_classes = (IsAuthenticated,)  # as chat_view: a signed-in user's chat, 401 otherwise

    @extend_schema(
        operation_id="chat_stream",
        summary="Stream a chat completion as Server-Sent Events",
        description=(
            "Persists the chat (`id`, made by the client; new when absent) and the user's last message, puts "
            "the user's working set of memories in a system message, and streams the model's answer: "
            '`event: message` frames with `{"type":"text","content":...}`, then `event: done` with '
            '`{"usage":{"tokens":...}}` (or `event: error` if the model fails mid-stream). Without a '
            "configured model the offline provider answers and says so. Rate limit: 30 a minute."
        ),
        request=ChatInput,
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                ChatStreamEvent, description="The SSE stream; the schema describes each event"
            ),
            **error_responses(400, 404, 502),
        },
    )
    def post(self, request):  # pragma: no cover - never dispatched
        raise NotImplementedError


# drf-spectacular lists views whose callback carries a DRF class; point it at the description.
chat_view.cls = ChatSchemaView
chat_view.initkwargs = {}
