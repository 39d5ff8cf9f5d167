"""The base views of every minicontratos endpoint (cerebro and ledger share them).

Two error shapes: the spec's (``{"error": "not_found", "message", "details"}``, every spec path)
and the one the minicontratos app's own routes answered and its error handler reads
(``{"code": "not_found:document", "message", "cause"}``, its ``ChatSDKError``). Endpoints that
exist for the app answer in the app's shape; endpoints of the spec that the app also calls answer
in it when the request is in the app's shape (``ChatSdkEnvelope``, chosen per request through
``request.error_envelope``). Every app-shape error also carries the spec's ``error`` code and
``details``, so a client of either vocabulary can read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser, IsAuthenticated

from accounts.nextauth_authentication import MINICONTRATOS_AUTHENTICATION
from core.envelopes import CEREBRO, FlatEnvelope
from core.error_schemas import CerebroErrorEnvelope
from core.errors import ErrorType
from core.openapi import ErrorShape
from core.parsers import JsonParser
from core.views import ApiView
from core.viewsets import ApiViewSet


class CerebroApiView(ApiView):
    """Signed in (NextAuth cookie or bearer token), counted against ``cerebro.general``."""

    authentication_classes = MINICONTRATOS_AUTHENTICATION
    permission_classes = (IsAuthenticated,)
    rate_limit_scopes = ("cerebro.general",)


class StaffOnly(IsAdminUser):
    """The spec's "admin role": a staff user."""

    message = "This endpoint needs the admin role"


# --- the minicontratos app's error shape ----------------------------------------------------------

# The app's error types by HTTP status; any other 4xx is a bad request, any 5xx "offline".
CHAT_SDK_TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 429: "rate_limit"}
# What the app shows for the codes this API answers (its error handler rebuilds the text from the
# code; the text is repeated so that a client printing ``message`` shows the same words).
CHAT_SDK_MESSAGES = {
    "bad_request:api": "The request couldn't be processed. Please check your input and try again.",
    "unauthorized:chat": "You need to sign in to view this chat. Please sign in and try again.",
    "forbidden:chat": "This chat belongs to another user. Please check the chat ID and try again.",
    "not_found:chat": "The requested chat was not found. Please check the chat ID and try again.",
    "rate_limit:chat": "You have exceeded your maximum number of messages for the day. Please try again later.",
    "offline:chat": "We're having trouble sending your message. Please check your internet connection and try again.",
    "not_found:document": "The requested document was not found. Please check the document ID and try again.",
    "forbidden:document": "This document belongs to another user. Please check the document ID and try again.",
    "unauthorized:document": "You need to sign in to view this document. Please sign in and try again.",
}
CHAT_SDK_DEFAULT_MESSAGE = "Something went wrong. Please try again later."


def chat_sdk_code(status: int, surface: str) -> str:
    """``<type>:<surface>``: a bad request is always ``bad_request:api``, as the app writes it."""
    kind = CHAT_SDK_TYPES.get(status) or ("offline" if status >= 500 else "bad_request")
    return f"{kind}:{'api' if kind == 'bad_request' else surface}"


@dataclass(frozen=True)
class ChatSdkEnvelope(FlatEnvelope):
    """``{"code": "forbidden:chat", "message", "cause", "error": "authorization_error", "details"?}``."""

    surface: str = "api"

    def render_error(self, status: int, code: str, message: str, details: Any = None) -> dict:
        chat_sdk = chat_sdk_code(status, self.surface)
        body = {
            "code": chat_sdk,
            "message": CHAT_SDK_MESSAGES.get(chat_sdk, CHAT_SDK_DEFAULT_MESSAGE),
            "cause": message,
            "error": self.code_for(code),
        }
        if details is not None:
            body["details"] = details
        return body


def chat_sdk_envelope(surface: str) -> ChatSdkEnvelope:
    return ChatSdkEnvelope(name="cerebro-app", base_path=CEREBRO.base_path, codes=CEREBRO.codes, surface=surface)


def use_chat_sdk_errors(request: HttpRequest, surface: str) -> None:
    """Answer this request's errors in the app's shape, for ``surface`` (chat, document, ...)."""
    request.error_envelope = chat_sdk_envelope(surface)


class ChatSdkErrorOutput(serializers.Serializer):
    """The app's error body (its ``ChatSDKError``), with the spec's code beside it."""

    code = serializers.CharField(
        required=False,
        help_text="<type>:<surface>, e.g. bad_request:api, forbidden:document (not on a 404 of a URL "
        "this API does not have, which is in the spec's envelope)",
    )
    message = serializers.CharField()
    cause = serializers.CharField(required=False, help_text="What was wrong, in this API's words")
    error = serializers.CharField(help_text="The spec's code: validation_error, not_found, ...")
    details = serializers.JSONField(required=False)


@dataclass(frozen=True)
class ChatSdkShape(ErrorShape):
    """The app's shape in the OpenAPI documents: its ``<type>:<surface>`` code beside the spec's."""

    envelope: ChatSdkEnvelope

    def code_of(self, error: ErrorType) -> str:
        return f"`{chat_sdk_code(error.status, self.envelope.surface)}` (`{self.envelope.code_for(error.code)}`)"


SPEC_SHAPE = ErrorShape(CEREBRO, CerebroErrorEnvelope)


class PlainTextJsonParser(JsonParser):
    """JSON sent as ``text/plain``: the app's browser code posts ``JSON.stringify(...)`` bodies with
    ``fetch`` and no Content-Type, which the browser then declares as text."""

    media_type = "text/plain"


class ChatSdkErrors:
    """Answers errors in the app's shape (for ``error_surface``) when ``answers_in_chat_sdk_shape``,
    and reads the app's JSON bodies also when they are sent as text; an API view or a viewset."""

    error_surface = "api"
    parser_classes = [JsonParser, PlainTextJsonParser]
    # The methods (an API view's) or actions (a viewset's) that answer in the spec's envelope unless the
    # request is in the app's shape; the others always answer in the app's (the OpenAPI documents read it).
    spec_shape_too: frozenset[str] = frozenset()

    def answers_in_chat_sdk_shape(self, request: HttpRequest) -> bool:
        return True

    def error_shapes(self, method: str) -> tuple[ErrorShape, ...]:
        """The shapes the OpenAPI documents give the errors of ``method`` (core.openapi reads it)."""
        app_shape = ChatSdkShape(chat_sdk_envelope(self.error_surface), ChatSdkErrorOutput)
        handler = getattr(self, "action", None) or method.lower()
        return (SPEC_SHAPE, app_shape) if handler in self.spec_shape_too else (app_shape,)

    def initialize_request(self, request: HttpRequest, *args, **kwargs):
        if self.answers_in_chat_sdk_shape(request):
            use_chat_sdk_errors(request, self.error_surface)
        return super().initialize_request(request, *args, **kwargs)


class ChatSdkApiView(ChatSdkErrors, CerebroApiView):
    """An endpoint the minicontratos app calls beyond the spec: its errors are in the app's shape."""


class CerebroViewSet(ApiViewSet):
    """Signed in (NextAuth cookie or bearer token), counted against ``cerebro.general``."""

    authentication_classes = MINICONTRATOS_AUTHENTICATION
    permission_classes = (IsAuthenticated,)
    rate_limit_scopes = ("cerebro.general",)
