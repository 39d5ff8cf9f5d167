"""A light, real API view for the serving benchmark: DRF, the platform's ApiView, one indexed read.

It measures what the servers add around an ordinary REST view (routing, middleware, DRF, one
database round trip, JSON rendering), not any app's business logic, so the figure stays comparable
while the apps change. Mounted only on the servers the benchmarks start (bench/settings.py).
"""

from __future__ import annotations

import orjson
from django.contrib.auth import get_user_model
from django.http import HttpResponse, JsonResponse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from core import errors
from core.openapi import raises
from core.views import ApiView

BenchUserSerializer = inline_serializer(
    "BenchUser",
    {"id": serializers.UUIDField(), "username": serializers.CharField(), "display_name": serializers.CharField()},
)


class BenchUserView(ApiView):
    """One user by username (a unique index): the shape of most read endpoints of the APIs."""

    @extend_schema(
        tags=["bench"],
        responses={200: BenchUserSerializer},
    )
    @raises(errors.NOT_FOUND)
    def get(self, request, username: str):
        row = get_user_model().objects.filter(username=username).values("id", "username", "display_name").first()
        if row is None:
            raise errors.NOT_FOUND()
        return Response(row)


def bare_constant_json(request) -> HttpResponse:
    """bench/coder.py's baseline: Django's request handling and middleware, and a constant JSON answer."""
    return JsonResponse({"success": True, "data": {"ok": True}, "error": None})


# --- The baselines of bench/lists.py: the same rows as each list endpoint, as orjson, nothing else ---
#
# Plain Django views (no DRF, no authentication, no rate limiter, no serializer): one query for the
# rows of the user named in the path, ``.values()`` of the model's own columns, one orjson dump.
# They pass through the same middleware as every request of the server that serves them.

BARE_LIST_ROWS = 50


def _bare_rows_answer(rows) -> HttpResponse:
    return HttpResponse(
        orjson.dumps({"success": True, "data": list(rows)}, default=str),  # str: Decimal columns
        content_type="application/json",
    )


def bare_coder_tasks(request, user_id: str) -> HttpResponse:
    from coder.models import Task

    rows = Task.objects.filter(user_id=user_id).order_by("-created_at").values()[:BARE_LIST_ROWS]
    return _bare_rows_answer(rows)


def bare_marketplace_datasets(request, user_id: str) -> HttpResponse:
    from marketplace.models import Dataset

    rows = Dataset.objects.filter(creator_id=user_id).order_by("-created_at").values()[:BARE_LIST_ROWS]
    return _bare_rows_answer(rows)


def bare_cerebro_history(request, user_id: str) -> HttpResponse:
    from cerebro.models import Chat

    rows = Chat.objects.filter(user_id=user_id).order_by("-updated_at").values()[:BARE_LIST_ROWS]
    return _bare_rows_answer(rows)
