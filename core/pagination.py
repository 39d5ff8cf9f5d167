"""The one pagination rule of every API: page style (``page``, ``limit``), offset style
(``limit``, ``offset``) and cursor style (``limit`` with ``starting_after`` / ``ending_before``),
with bounds that make an out-of-range number a 400.

A client's number becomes a SQL ``OFFSET``/``LIMIT``. Unbounded, ``page=99999999999999999999999``
or ``offset=2**63`` overflowed the database's 64-bit integers and answered 500. Every query
serializer here caps them, so such a request is refused by input validation, which each API's
exception handler renders as a 400 in its own envelope, naming the parameter:

- ``limit``: 1 to ``MAX_LIMIT`` (100); each list chooses its default.
- ``page``: 1 to ``MAX_PAGE`` (1,000,000).
- ``offset``: 0 to ``MAX_OFFSET`` (``MAX_PAGE * MAX_LIMIT`` = 100,000,000), so both styles reach
  the same rows.

Each is written in ASCII digits (``core.fields.AsciiIntegerField``): full-width digits are a 400 too.

``paginate`` and ``paginate_offset`` check the same bounds again for callers that bypass the
serializers, and read the page and its total in one query (``COUNT(*) OVER ()`` rides along with
the page's rows; a page past the end costs a second query for the total).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet, Window
from rest_framework import serializers

from core import errors
from core.fields import AsciiIntegerField

MAX_LIMIT = 100
MAX_PAGE = 1_000_000
MAX_OFFSET = MAX_PAGE * MAX_LIMIT
DEFAULT_PAGE_LIMIT = 20
DEFAULT_OFFSET_LIMIT = 50


def limit_field(*, default: int, maximum: int = MAX_LIMIT) -> AsciiIntegerField:
    return AsciiIntegerField(min_value=1, max_value=min(maximum, MAX_LIMIT), default=default)


def page_field() -> AsciiIntegerField:
    return AsciiIntegerField(min_value=1, max_value=MAX_PAGE, default=1)


def offset_field() -> AsciiIntegerField:
    return AsciiIntegerField(min_value=0, max_value=MAX_OFFSET, default=0)


class PageQuerySerializer(serializers.Serializer):
    """``page`` and ``limit`` (override ``limit = limit_field(default=...)`` for another default)."""

    page = page_field()
    limit = limit_field(default=DEFAULT_PAGE_LIMIT)


class OffsetQuerySerializer(serializers.Serializer):
    """``limit`` and ``offset`` (override ``limit`` for another default)."""

    limit = limit_field(default=DEFAULT_OFFSET_LIMIT)
    offset = offset_field()


class PageMetaSerializer(serializers.Serializer):
    page = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField()
    totalPages = serializers.IntegerField()


def total_pages(*, total: int, limit: int) -> int:
    return math.ceil(total / limit) if total else 0


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    limit: int
    total: int

    @property
    def total_pages(self) -> int:
        return total_pages(total=self.total, limit=self.limit)

    @property
    def meta(self) -> dict[str, int]:
        """``{page, limit, total, totalPages}``, the shape coder's ``meta`` and marketplace's ``pagination`` share."""
        return {"page": self.page, "limit": self.limit, "total": self.total, "totalPages": self.total_pages}


@dataclass(frozen=True)
class OffsetPage:
    items: list[Any]
    offset: int
    limit: int
    total: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def _check_bounds(*, limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise errors.VALIDATION(
            f"limit must be between 1 and {MAX_LIMIT}", details={"limit": [f"between 1 and {MAX_LIMIT}"]}
        )
    if not 0 <= offset <= MAX_OFFSET:
        raise errors.VALIDATION(
            f"The page is out of range (at most {MAX_OFFSET} rows can be skipped)",
            details={"offset": [f"between 0 and {MAX_OFFSET}"]},
        )


TOTAL_ALIAS = "_page_total"


def _rows_and_total(queryset: QuerySet, *, offset: int, limit: int) -> tuple[list, int]:
    _check_bounds(limit=limit, offset=offset)
    rows = list(queryset.annotate(**{TOTAL_ALIAS: Window(Count("pk"))})[offset : offset + limit])
    if not rows:
        return rows, queryset.count()
    total = _pop_total(rows[0])
    for row in rows[1:]:
        _pop_total(row)
    return rows, total


def _pop_total(row) -> int:
    if isinstance(row, dict):
        return row.pop(TOTAL_ALIAS)
    return row.__dict__.pop(TOTAL_ALIAS)


def paginate(queryset: QuerySet, *, page: int, limit: int) -> Page:
    """Page ``page`` (from 1) of ``limit`` rows of ``queryset`` (ordered by the caller), with the total."""
    if not 1 <= page <= MAX_PAGE:
        raise errors.VALIDATION(
            f"page must be between 1 and {MAX_PAGE}", details={"page": [f"between 1 and {MAX_PAGE}"]}
        )
    rows, total = _rows_and_total(queryset, offset=(page - 1) * limit, limit=limit)
    return Page(items=rows, page=page, limit=limit, total=total)


def paginate_offset(queryset: QuerySet, *, offset: int, limit: int) -> OffsetPage:
    """``limit`` rows of ``queryset`` after skipping ``offset``, with the total."""
    rows, total = _rows_and_total(queryset, offset=offset, limit=limit)
    return OffsetPage(items=rows, offset=offset, limit=limit, total=total)


def paginate_loaded(queryset: QuerySet, *, page: int, limit: int, load: Callable[[list], Iterable]) -> Page:
    """``paginate`` choosing the page by primary key only (no joins in the ordered, counted query),
    then loading its rows with ``load(keys)`` (the output queryset with its joins and prefetches),
    in the page's order."""
    keys_page = paginate(queryset.values("pk"), page=page, limit=limit)
    keys = [row["pk"] for row in keys_page.items]
    by_key = {row.pk: row for row in load(keys)}
    return dataclasses.replace(keys_page, items=[by_key[key] for key in keys if key in by_key])


# --- cursor style ---------------------------------------------------------------------------------


class CursorQuerySerializer(serializers.Serializer):
    """``limit`` with ``starting_after`` / ``ending_before``: the key of the row a page starts after
    (the next, older page) or ends before (the previous, newer page). Pages never repeat a row and
    reach the last one, however rows are added meanwhile."""

    limit = limit_field(default=DEFAULT_PAGE_LIMIT)
    starting_after = serializers.CharField(required=False, max_length=200)
    ending_before = serializers.CharField(required=False, max_length=200)

    def validate(self, attrs):
        if attrs.get("starting_after") and attrs.get("ending_before"):
            raise serializers.ValidationError("give starting_after or ending_before, not both")
        return attrs


@dataclass(frozen=True)
class CursorPage:
    items: list[Any]
    has_more: bool  # beyond the page, in the direction it was read


def paginate_cursor(
    queryset: QuerySet, *, order_field: str, limit: int, after: Any = None, before: Any = None
) -> CursorPage:
    """Up to ``limit`` rows of ``queryset``, newest ``order_field`` first (ties broken by key).

    ``after`` (a row) gives the rows that follow it in that order; ``before`` (a row) the rows that
    precede it, still listed newest first. The caller finds the cursor row by its key within the
    same queryset, so a key from another user's rows reads as unknown rather than leaking order.
    """
    _check_bounds(limit=limit, offset=0)
    if after is not None:
        value = getattr(after, order_field)
        queryset = queryset.filter(Q(**{f"{order_field}__lt": value}) | Q(**{order_field: value, "pk__lt": after.pk}))
    if before is not None:
        value = getattr(before, order_field)
        queryset = queryset.filter(Q(**{f"{order_field}__gt": value}) | Q(**{order_field: value, "pk__gt": before.pk}))
        rows = list(queryset.order_by(order_field, "pk")[: limit + 1])
        return CursorPage(items=rows[:limit][::-1], has_more=len(rows) > limit)
    rows = list(queryset.order_by(f"-{order_field}", "-pk")[: limit + 1])
    return CursorPage(items=rows[:limit], has_more=len(rows) > limit)
