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
from core.pagination import paginate_offset


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
        page = paginate_offset(chat_history(user=request.user), **query.validated_data)
        return Response(
            {"chats": ChatSummaryOutput(page.items, many=True).data, "total": page.total, "hasMore": page.has_more}
        )


class PingView(CerebroApiView):
    authentication_classes = ()
    permission_classes = (AllowAny,)
    rate_limit_scopes = ()

    @extend_schema(operation_id="ping", summary="Health check for monitoring", responses={200: PingOutput})
    def get(self, request):
        return Response({"status": "ok", "timestamp": js_timestamp(timezone.now()), "version": settings.APP_VERSION})
