"""Serializer fields and formats the APIs share (cerebro and its ledger among them, neither importing the other)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers


def js_timestamp(moment: datetime | None) -> str | None:
    """A timestamp as the spec writes it (JavaScript's ``toISOString``): ``2025-10-30T08:00:00.000Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class _StringsOnly:
    """A text field of a request body that takes a JSON string only: DRF's ``CharField`` turns the
    number 12 into "12" (and 1.5 into "1.5"), hiding a client's mistake where the spec says string."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StringField(_StringsOnly, serializers.CharField):
    """``CharField`` for a body's string (400 "Not a valid string." for a number or a boolean)."""


class StringRegexField(_StringsOnly, serializers.RegexField):
    """``RegexField`` for a body's string (400 "Not a valid string." for a number or a boolean)."""


class AsciiIntegerField(serializers.IntegerField):
    """``IntegerField`` for a number a client may write as text (every query parameter, and every
    integer of a request body, which a client may send as a JSON string): an
    optional sign and ASCII digits, nothing else. DRF reads text with Python's ``int()``, which also
    takes full-width and other scripts' digits (U+FF11 U+FF10 reads as 10), Unicode spaces around
    them, ``_`` between them ("1_0") and, DRF's own addition, a ".0" after them; no client means any
    of those as a number. A JSON number is read as DRF reads it."""

    _ASCII_INTEGER = re.compile(r"[+-]?[0-9]+")  # [0-9], not \d: \d matches every script's digits

    def to_internal_value(self, data):
        if isinstance(data, str) and not self._ASCII_INTEGER.fullmatch(data):
            self.fail("invalid")
        return super().to_internal_value(data)


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(item) for item in value)
    return False


@extend_schema_field({"type": "object", "additionalProperties": True})
class JsonObjectField(serializers.JSONField):
    """A JSON object (not a list or a scalar), without NUL characters (PostgreSQL refuses them)."""

    default_error_messages = {
        "not_object": "Must be a JSON object.",
        "nul": "Text must not contain NUL characters.",
    }

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_object")
        if _contains_nul(value):
            self.fail("nul")
        return value


@extend_schema_field(OpenApiTypes.DATETIME)
class IsoMomentField(serializers.Field):
    """An ISO 8601 date or date-time. A bare date means its start, or its end with ``end_of_day``."""

    default_error_messages = {"invalid": "Use an ISO 8601 date or date-time."}

    def __init__(self, *, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data) -> datetime:
        text = str(data).strip()
        try:
            moment = parse_datetime(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            day = None if moment else parse_date(text)
            # In UTC: a database refuses offsets beyond its range (PostgreSQL: +-15:59).
            moment = moment.astimezone(UTC) if moment and moment.tzinfo else moment
        except (ValueError, OverflowError):
            self.fail("invalid")
        if moment is not None:
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        if day is None:
            self.fail("invalid")
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return start + timedelta(days=1) - timedelta(microseconds=1) if self.end_of_day else start

    def to_representation(self, value):
        return value.isoformat()
