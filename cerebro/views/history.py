"""GET /api/history and GET /ping."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from cerebro.api import CerebroApiView, error_responses, js_timestamp
from cerebro.selectors.history import chat_history
from cerebro.serializers.chat import ChatSummaryOutput, HistoryOutput, HistoryQuery, PingOutput


class HistoryView(CerebroApiView):
    @extend_schema(
        operation_id="history_list",
        summary="The user's chats, most recently active first",
        parameters=[HistoryQuery],
        responses={200: HistoryOutput, **error_responses(400)},
    )
    def get(self, request):
        query = HistoryQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        limit, offset = query.validated_data["limit"], query.validated_data["offset"]
        chats = chat_history(user=request.user)
        total = chats.count()
        page = list(chats[offset : offset + limit])
        return Response(
            {
                "chats": ChatSummaryOutput(page, many=True).data,
                "total": total,
                "hasMore": offset + len(page) < total,
            }
        )


class PingView(CerebroApiView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    rate_limit_scopes = ()

    @extend_schema(operation_id="ping", summary="Health check for monitoring", responses={200: PingOutput})
    def get(self, request):
        return Response({"status": "ok", "timestamp": js_timestamp(timezone.now()), "version": settings.APP_VERSION})
