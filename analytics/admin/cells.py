"""Compact list cells.

A triager reads the lists at 1400 px with the navigation sidebar open (about 740 px for the
table beside the filters), so each cell says what it must in few pixels and may wrap: relative
times with the exact UTC time on hover, the newest of many versions, a trend as two counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from analytics.grouping import version_key

RECENT = timedelta(days=7)


def age(value: datetime, now: datetime) -> str:
    """The time since ``value`` in the largest whole unit: "just now", "38 min", "3 h", "2 d"."""
    seconds = int((now - value).total_seconds())
    for unit, size in (("d", 86_400), ("h", 3_600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now"


def when(value: datetime | None, *, now: datetime | None = None) -> SafeString | str:
    """ "3 h ago" within a week, the day after that; the exact time in the tooltip."""
    if value is None:
        return "-"
    now = now or timezone.now()
    moment = value.astimezone(UTC)
    recent = timedelta(0) <= now - value < RECENT
    text = age(value, now) if recent else moment.strftime("%Y-%m-%d")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>', moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M UTC"), text
    )


def trend(last_day: int, day_before: int) -> SafeString:
    """Reports in the last 24 hours against the 24 hours before, with an arrow for the direction."""
    if last_day > day_before:
        arrow, direction = "\u25b2", "up"
    elif last_day < day_before:
        arrow, direction = "\u25bc", "down"
    else:
        arrow, direction = "=", "flat"
    return format_html(
        '<span class="trend trend-{}" title="{} report(s) in the last 24 h, {} in the 24 h before">{} {} '
        "<small>vs {}</small></span>",
        direction,
        last_day,
        day_before,
        arrow,
        last_day,
        day_before,
    )


def newest_versions(versions: Sequence[str], keep: int = 1) -> SafeString | str:
    """The newest ``keep`` versions and how many more; all of them in the tooltip."""
    if not versions:
        return "-"
    ordered = sorted(versions, key=version_key, reverse=True)
    return labels(ordered, keep=keep)


def labels(values: Sequence[str], keep: int = 3) -> SafeString | str:
    """The first ``keep`` values and "+N" for the rest; all of them in the tooltip."""
    if not values:
        return "-"
    shown = ", ".join(values[:keep])
    rest = len(values) - keep
    return format_html('<span title="{}">{}{}</span>', ", ".join(values), shown, f" +{rest}" if rest > 0 else "")


def stars(rating: int | None) -> SafeString | str:
    """A 1..5 rating as five stars, the missing ones faint."""
    if rating is None:
        return "-"
    return format_html(
        '<span class="stars" title="{} of 5">{}<span class="missing">{}</span></span>',
        rating,
        "\u2605" * rating,
        "\u2605" * (5 - rating),
    )


def error_summary(error_type: str, message: str) -> SafeString:
    """The error type in bold above the start of its message."""
    return format_html(
        '<span class="error-type">{}</span><span class="excerpt">{}</span>', error_type, excerpt(message)
    )


def excerpt(text: str, length: int = 240) -> str:
    """The start of a long text on one logical line (CSS clamps it to a few visual lines)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "\u2026"
