"""POST /api/chat (two request shapes, two streams), DELETE /api/chat?id=, and
GET /api/chat/{id}/stream (resume).

The chat is a plain async Django view (DRF views are synchronous): while the answer streams, the
request holds no thread, only a coroutine awaiting the model (core.llm's ``astream`` over httpx).
Database work (authentication, rate limit, persisting the chat) runs briefly in Django's
thread-sensitive executor before and after.

What the request looks like decides the answer:

- the spec's body (``messages: [{role, content}]``, or anything that is not a JSON object):
  Server-Sent Events exactly as the spec shows them, errors in the spec's envelope::

      event: message
      data: {"type":"text","content":"Hello!"}

      event: done
      data: {"usage":{"tokens":150,...},"chatId":"...","provider":"offline","model":"offline"}

- the minicontratos app's body (a JSON object without ``messages``: ``{id, message: {id, role,
  parts}, selectedChatModel, selectedVisibilityType}``): the AI SDK 5 UI message stream
  (cerebro/ui_messages.py), resumable, errors in the app's shape (``{"code": "bad_request:api",
  ...}``, cerebro/api.py).

A model failure after a stream started ends it with its error frame.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from accounts.nextauth_authentication import authenticate_request
from cerebro import ui_messages
from cerebro.api import ChatSdkApiView, use_chat_sdk_errors
from cerebro.errors import ATTACHMENT_REFUSED, CHAT_NOT_FOUND, CHAT_OF_ANOTHER_USER, MESSAGE_ID_TAKEN, MODEL_FAILED
from cerebro.selectors.chats import chat_answer_to_restore, chat_readable_by
from cerebro.serializers.chat import ChatDeleteQuery, ChatInput, ChatOutput, UiChatInput
from cerebro.services.chat import ChatTurn, chat_delete, chat_turn_begin, chat_turn_begin_from_parts
from cerebro.services.chat_stream import answer_store, running_answer_stream, ui_answer_stream
from core import errors, ratelimit
from core.envelopes import envelope_for_path
from core.exceptions import render_exception
from core.llm import LanguageModelError, get_provider
from core.openapi import raises
from core.parsers import JsonBodyError, json_body
from core.views import validated

CHAT_SCOPE = "cerebro.chat"
RESUME_SCOPE = "cerebro.general"


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'), ensure_ascii=False)}\n\n".encode()


def _signed_in(request: HttpRequest, scope: str) -> ratelimit.RateLimitResult:
    """Authenticate (401 without a credential) and count the request against ``scope``."""
    user = authenticate_request(request)
    if user is None:
        raise errors.UNAUTHORIZED("Sign in with the NextAuth session cookie or a bearer token")
    request.user = user
    return ratelimit.enforce(request, scope)


def _error(request: HttpRequest, exc: BaseException) -> HttpResponse:
    response = render_exception(request, exc)
    if response.status_code == 401:
        response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


def _body(request: HttpRequest):
    """The JSON body, or the JsonBodyError refusing it (answered once the caller is authenticated)."""
    try:
        return json_body(request.body or b"null")
    except JsonBodyError as refused:
        return refused


# --- the spec's shape ----------------------------------------------------------------------------


def _prepare(request: HttpRequest, payload) -> tuple[ChatTurn, ratelimit.RateLimitResult]:
    """Authenticate, count against ``cerebro.chat``, validate and record the user's message."""
    limit = _signed_in(request, CHAT_SCOPE)
    if isinstance(payload, JsonBodyError):
        raise errors.BAD_REQUEST(f"The body is refused: {payload}")
    data = validated(ChatInput, payload if isinstance(payload, dict) else {})
    turn = chat_turn_begin(
        user=request.user,
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
        await asyncio.shield(answer_store(turn, provider.name, "".join(pieces), None, complete=False))
        raise
    await answer_store(turn, provider.name, "".join(pieces), final, complete=failure is None)
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


# --- the app's shape -----------------------------------------------------------------------------


def _prepare_from_parts(request: HttpRequest, payload: dict) -> tuple[ChatTurn, ratelimit.RateLimitResult]:
    limit = _signed_in(request, CHAT_SCOPE)
    data = validated(UiChatInput, payload)
    turn = chat_turn_begin_from_parts(
        user=request.user,
        chat_id=data["id"],
        message_id=data["message"]["id"],
        parts=data["message"]["parts"],
        chat_model=data["selectedChatModel"],
        visibility=data["selectedVisibilityType"],
    )
    return turn, limit


def _ui_stream_response(frames: AsyncIterator[bytes]) -> StreamingHttpResponse:
    return StreamingHttpResponse(frames, content_type=ui_messages.CONTENT_TYPE, headers=ui_messages.HEADERS)


async def _chat_from_parts(request: HttpRequest, payload: dict) -> HttpResponse:
    use_chat_sdk_errors(request, "chat")
    try:
        turn, limit = await sync_to_async(_prepare_from_parts)(request, payload)
    except Exception as exc:
        return _error(request, exc)
    response = _ui_stream_response(ui_answer_stream(turn))
    limit.apply_headers(response, envelope_for_path(request.path))
    return response


# --- the views -----------------------------------------------------------------------------------


@csrf_exempt  # cookie callers are checked by Origin in NextAuthSessionAuthentication
async def chat_view(request: HttpRequest) -> HttpResponse:
    if request.method == "DELETE":
        return await sync_to_async(chat_delete_view)(request)
    if request.method != "POST":
        response = render_exception(request, errors.METHOD_NOT_ALLOWED(f'Method "{request.method}" not allowed.'))
        response["Allow"] = "POST, DELETE"
        return response
    payload = _body(request)
    if isinstance(payload, dict) and "messages" not in payload:
        return await _chat_from_parts(request, payload)
    try:
        turn, limit = await sync_to_async(_prepare)(request, payload)
    except Exception as exc:
        return _error(request, exc)
    response = StreamingHttpResponse(_answer(turn), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    limit.apply_headers(response, envelope_for_path(request.path))
    return response


def _prepare_resume(request: HttpRequest, chat_id: str) -> tuple[ratelimit.RateLimitResult, str, dict | None]:
    """Authenticate, check the chat may be followed, and find an answer that just finished."""
    limit = _signed_in(request, RESUME_SCOPE)
    try:
        chat_id = uuid.UUID(chat_id)
    except ValueError:
        raise CHAT_NOT_FOUND(details={"id": chat_id[:100]}) from None
    chat = chat_readable_by(user=request.user, chat_id=chat_id)
    return limit, str(chat.pk), chat_answer_to_restore(chat=chat)


@csrf_exempt
async def chat_stream_view(request: HttpRequest, chat_id: str) -> HttpResponse:
    """The chat's running answer from its start (200, the UI message stream); an answer that just
    finished, whole (200, one ``data-appendMessage`` part); otherwise 204."""
    use_chat_sdk_errors(request, "chat")
    if request.method != "GET":
        response = _error(request, errors.METHOD_NOT_ALLOWED(f'Method "{request.method}" not allowed.'))
        response["Allow"] = "GET"
        return response
    try:
        limit, chat_id, restorable = await sync_to_async(_prepare_resume)(request, chat_id)
        frames = await running_answer_stream(chat_id)
    except Exception as exc:
        return _error(request, exc)
    if frames is not None:
        response = _ui_stream_response(frames)
    elif restorable is not None:
        restored = (
            ui_messages.data_part(
                "appendMessage", json.dumps(restorable, separators=(",", ":"), ensure_ascii=False), transient=True
            )
            + ui_messages.DONE
        )
        response = HttpResponse(restored, content_type=ui_messages.CONTENT_TYPE, headers=ui_messages.HEADERS)
    else:
        response = HttpResponse(status=204)
    limit.apply_headers(response, envelope_for_path(request.path))
    return response


# --- DELETE /api/chat, and the OpenAPI description of both ---------------------------------------

# One Server-Sent Event of the spec's chat stream, as a client's SSE parser reads it: its name and
# its data line (a JSON document: {"type": "text", "content": ...}, {"usage": {...}} or {"error": ...}).
ChatStreamEvent = inline_serializer(
    "CerebroChatStreamEvent",
    {
        "event": serializers.ChoiceField(choices=["message", "done", "error"]),
        "data": serializers.CharField(help_text="A JSON document"),
    },
)


class ChatView(ChatSdkApiView):
    """DELETE is served here; POST by ``chat_view`` (described here for the OpenAPI document)."""

    error_surface = "chat"
    spec_shape_too = frozenset({"post"})

    @extend_schema(
        operation_id="chat_stream",
        summary="Stream a chat completion as Server-Sent Events",
        description=(
            "Two request shapes, told apart by the body. **The spec's** (`messages`): persists the chat (`id`, "
            "made by the client; new when absent) and the user's last message, puts the user's working set of "
            "memories in a system message, and streams the model's answer: `event: message` frames with "
            '`{"type":"text","content":...}`, then `event: done` with `{"usage":{"tokens":...}}` (or '
            "`event: error` if the model fails mid-stream); errors in the spec's envelope. **The minicontratos "
            "app's** (`message` with AI SDK UI `parts`, `selectedChatModel`, `selectedVisibilityType`): the new "
            "message only (the conversation is the stored chat; file parts link uploads), answered with the AI "
            'SDK 5 UI message stream (`data: {"type":"start",...}` ... `data: [DONE]`, header '
            "`x-vercel-ai-ui-message-stream: v1`), resumable through `GET /api/chat/{id}/stream`; errors in the "
            'app\'s shape (`{"code": "forbidden:chat", ...}`); another user\'s chat is a 403. Without a '
            "configured model the offline provider answers and says so. Rate limit: 30 a minute."
        ),
        request=PolymorphicProxySerializer(
            component_name="CerebroChatRequest", serializers=[ChatInput, UiChatInput], resource_type_field_name=None
        ),
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                ChatStreamEvent, description="The SSE stream; the schema describes each event"
            ),
        },
    )
    @raises(
        errors.BAD_REQUEST, ATTACHMENT_REFUSED, CHAT_OF_ANOTHER_USER, CHAT_NOT_FOUND, MESSAGE_ID_TAKEN, MODEL_FAILED
    )
    def post(self, request):  # pragma: no cover - never dispatched
        raise NotImplementedError

    @extend_schema(
        operation_id="chat_delete",
        summary="Delete one of the user's chats (the app's sidebar)",
        parameters=[ChatDeleteQuery],
        responses={200: ChatOutput},
    )
    @raises(CHAT_OF_ANOTHER_USER, CHAT_NOT_FOUND)
    def delete(self, request):
        query = validated(ChatDeleteQuery, request.query_params)
        return Response(ChatOutput(chat_delete(user=request.user, chat_id=query["id"])).data)


chat_delete_view = ChatView.as_view()
# drf-spectacular lists views whose callback carries a DRF class; point it at the description.
chat_view.cls = ChatView
chat_view.initkwargs = {}


class ChatStreamSchemaView(ChatSdkApiView):
    """Describes GET /api/chat/{id}/stream in the OpenAPI document; served by ``chat_stream_view``."""

    @extend_schema(
        operation_id="chat_stream_resume",
        summary="Resume the chat's running answer (the app calls it on every chat page)",
        description=(
            "200 with the UI message stream from its first frame while an answer is being produced (then live); "
            "200 with one transient `data-appendMessage` part carrying the answer when it finished within "
            "CEREBRO_CHAT_RESTORE_SECONDS; 204 when there is nothing to resume. Public chats may be followed by "
            "any signed-in user, private ones by their owner (403 otherwise)."
        ),
        responses={
            (200, "text/event-stream"): OpenApiResponse(description="The UI message stream"),
            204: OpenApiResponse(description="Nothing to resume"),
        },
    )
    @raises(CHAT_OF_ANOTHER_USER, CHAT_NOT_FOUND)
    def get(self, request, chat_id):  # pragma: no cover - never dispatched
        raise NotImplementedError


chat_stream_view.cls = ChatStreamSchemaView
chat_stream_view.initkwargs = {}
