"""GET/DELETE /api/history (the user's chats: a viewset) and GET /ping (a health check: an API view)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cerebro.api import CerebroApiView, CerebroViewSet, ChatSdkErrors
from cerebro.errors import HISTORY_CURSOR_NOT_FOUND
from cerebro.selectors.history import chat_history, chat_history_page
from cerebro.serializers.chat import (
    ChatSummaryOutput,
    HistoryCursorQuery,
    HistoryDeleteOutput,
    HistoryOutput,
    HistoryQuery,
    PingOutput,
)
from cerebro.services.chat import chat_delete_all
from core.fields import js_timestamp
from core.openapi import one_object, raises
from core.pagination import paginate_offset
from core.views import validated

CURSORS = ("ending_before", "starting_after")


class HistoryViewSet(ChatSdkErrors, CerebroViewSet):
    """The spec's offset pages; the app's cursor pages (``ending_before`` / ``starting_after``, errors
    in its shape) and its "delete all"."""

    error_surface = "chat"
    # The spec's offset pages; with a cursor, list reads the app's query (HistoryCursorQuery) instead.
    query_serializers = {"list": HistoryQuery}
    spec_shape_too = frozenset({"list"})

    def get_queryset(self):
        return chat_history(user=self.request.user)

    def answers_in_chat_sdk_shape(self, request) -> bool:
        return request.method == "DELETE" or any(cursor in request.GET for cursor in CURSORS)

    @extend_schema(
        operation_id="history_list",
        summary="The user's chats, most recently active first",
        description=(
            "Offset pages (`limit`, `offset`, the spec) or cursor pages (`limit` with `ending_before` or "
            "`starting_after`, a chat's id: the chats after or before it in the same order, so pages never "
            "repeat; errors then in the app's shape)."
        ),
        parameters=[
            OpenApiParameter("ending_before", OpenApiTypes.UUID, description="The chats older than this chat"),
            OpenApiParameter("starting_after", OpenApiTypes.UUID, description="The chats newer than this chat"),
        ],
        responses={200: one_object(HistoryOutput())},
    )
    @raises(HISTORY_CURSOR_NOT_FOUND)
    def list(self, request):
        if any(cursor in request.query_params for cursor in CURSORS):
            return self._cursor_page(request)
        page = paginate_offset(self.get_queryset(), **self.validated_query())
        return Response(
            {"chats": ChatSummaryOutput(page.items, many=True).data, "total": page.total, "hasMore": page.has_more}
        )

    def _cursor_page(self, request) -> Response:
        page = chat_history_page(user=request.user, **validated(HistoryCursorQuery, request.query_params))
        return Response(
            {
                "chats": ChatSummaryOutput(page.items, many=True).data,
                "total": self.get_queryset().count(),
                "hasMore": page.has_more,
            }
        )

    @extend_schema(
        operation_id="history_delete",
        summary="Delete every chat of the user (the app's sidebar)",
        request=None,
        responses={200: HistoryDeleteOutput},
    )
    def destroy_all(self, request):
        return Response({"deletedCount": chat_delete_all(user=request.user)})


class PingView(CerebroApiView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    rate_limit_scopes = ()

    @extend_schema(operation_id="ping", summary="Health check for monitoring", responses={200: PingOutput})
    def get(self, request):
        return Response({"status": "ok", "timestamp": js_timestamp(timezone.now()), "version": settings.APP_VERSION})
