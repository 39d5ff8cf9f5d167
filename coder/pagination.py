# ruff: noqa: N815 (field names are the API's camelCase keys)
"""Page/limit pagination with the spec's ``meta`` (page, limit, total, totalPages)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet, Window
from rest_framework import serializers

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageQuerySerializer(serializers.Serializer):
    page = serializers.IntegerField(min_value=1, default=1)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)


class PageMetaSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    totalPages = serializers.IntegerField()


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    limit: int
    total: int

    @property
    def meta(self) -> dict[str, int]:
        return {
            "page": self.page,
            "limit": self.limit,
            "total": self.total,
            "totalPages": math.ceil(self.total / self.limit) if self.total else 0,
        }


TOTAL_ALIAS = "_page_total"


def paginate(queryset: QuerySet, *, page: int, limit: int) -> Page:
    """One page of ``queryset`` and the total count, in one query (``COUNT(*) OVER ()`` rides
    along with the page's rows); a page past the end costs a second query for the total."""
    offset = (page - 1) * limit
    rows = list(queryset.annotate(**{TOTAL_ALIAS: Window(Count("pk"))})[offset : offset + limit])
    if rows:
        total = _pop_total(rows[0])
        for row in rows[1:]:
            _pop_total(row)
    else:
        total = queryset.count()
    return Page(items=rows, page=page, limit=limit, total=total)


def _pop_total(row) -> int:
    if isinstance(row, dict):
        return row.pop(TOTAL_ALIAS)
    return row.__dict__.pop(TOTAL_ALIAS)
