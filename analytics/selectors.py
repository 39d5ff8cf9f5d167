"""Reads worth a name: a data subject's export, the dashboard's aggregates, admin querysets."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connection
from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from analytics.grouping import version_key
from analytics.models import (
    ActiveDay,
    AnalyticsUser,
    DailyRollup,
    ErrorGroup,
    ErrorGroupStatus,
    ErrorReport,
    Feedback,
    FeedbackStatus,
    RollupKind,
    UsageEvent,
)

# --- Data-subject export -------------------------------------------------------------------------

_USER_FIELDS = (
    "user_id",
    "registration_date",
    "last_seen",
    "platform",
    "platform_version",
    "architecture",
    "python_version",
    "jeeves_version",
    "privacy_consent_version",
    "consent_date",
    "code_safety_acknowledged",
    "analytics_enabled",
    "auto_registered",
)
_EVENT_FIELDS = ("id", "session_id", "event_type", "timestamp", "event_data", "system_context")
_REPORT_FIELDS = (
    "id",
    "session_id",
    "error_type",
    "error_message",
    "stack_trace",
    "timestamp",
    "context",
    "system_info",
    "resolved",
)
_FEEDBACK_FIELDS = ("id", "feedback_type", "message", "rating", "timestamp", "metadata", "system_info", "status")


def subject_data(*, user: AnalyticsUser) -> dict:
    """Everything stored for one install, in the shape of GET /users/{user_id}/data."""
    user_row = {name: getattr(user, name) for name in _USER_FIELDS}
    events = list(UsageEvent.objects.filter(user=user).order_by("timestamp", "id").values(*_EVENT_FIELDS).iterator())
    reports = list(ErrorReport.objects.filter(user=user).order_by("timestamp", "id").values(*_REPORT_FIELDS).iterator())
    feedback = list(Feedback.objects.filter(user=user).order_by("timestamp", "id").values(*_FEEDBACK_FIELDS))
    active_days = [
        day.isoformat() for day in ActiveDay.objects.filter(user=user).order_by("day").values_list("day", flat=True)
    ]
    return {
        "user_id": user.user_id,
        "exported_at": timezone.now(),
        "counts": {
            "users": 1,
            "usage_events": len(events),
            "error_reports": len(reports),
            "feedback": len(feedback),
            "active_days": len(active_days),
        },
        "user": user_row,
        "usage_events": events,
        "error_reports": reports,
        "feedback": feedback,
        "active_days": active_days,
    }


# --- Dashboard -------------------------------------------------------------------------------------

TOP_EVENT_TYPES = 6
TOP_VERSIONS = 15
TOP_MODULES = 12


@dataclass
class Dashboard:
    since: date
    until: date
    days: list[date]
    active_installs: list[int]
    events_by_type: dict[str, list[int]]
    errors_by_version: list[tuple[str, int]]
    ratings: list[tuple[str, int]]
    module_times: list[tuple[str, float, int]]
    totals: dict[str, int] = field(default_factory=dict)


@dataclass
class _RollupSums:
    """The rollup rows of a run of days, summed per series as the dashboard draws them."""

    days: int
    active: list[int] = field(init=False)
    events: dict[str, list[int]] = field(init=False)
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    ratings: dict[str, int] = field(default_factory=lambda: {str(rating): 0 for rating in range(1, 6)})
    module_count: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    module_total: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def __post_init__(self) -> None:
        self.active = [0] * self.days
        self.events = defaultdict(lambda: [0] * self.days)

    def add(self, position: int, kind: str, key: str, count: int, total: float) -> None:
        if kind == RollupKind.ACTIVE:
            self.active[position] += count
        elif kind == RollupKind.EVENTS:
            self.events[key][position] += count
        elif kind == RollupKind.ERRORS:
            self.errors[key or "unknown"] += count
        elif kind == RollupKind.RATINGS:
            self.ratings[key] = self.ratings.get(key, 0) + count
        elif kind == RollupKind.MODULE_TIME:
            self.module_count[key] += count
            self.module_total[key] += total

    def top_event_series(self) -> dict[str, list[int]]:
        """The busiest event types' series, the rest summed as ``other``."""
        ranked = sorted(self.events, key=lambda name: -sum(self.events[name]))
        series = {name: self.events[name] for name in ranked[:TOP_EVENT_TYPES]}
        if len(ranked) > TOP_EVENT_TYPES:
            rest = [self.events[name] for name in ranked[TOP_EVENT_TYPES:]]
            series["other"] = [sum(day) for day in zip(*rest, strict=True)]
        return series

    def errors_of_newest_versions(self) -> list[tuple[str, int]]:
        """(version, errors), the newest versions first."""
        return sorted(self.errors.items(), key=lambda item: version_key(item[0]), reverse=True)[:TOP_VERSIONS]

    def slowest_modules(self) -> list[tuple[str, float, int]]:
        """(module, mean time, runs), slowest first."""
        means = ((name, self.module_total[name] / count, count) for name, count in self.module_count.items())
        return sorted(means, key=lambda item: -item[1])[:TOP_MODULES]


def dashboard_data(*, days: int = 30, today: date | None = None) -> Dashboard:
    """The dashboard's series for the ``days`` days ending ``today``, from the daily rollups.

    One query over the rollups (a few rows per day and key) and a handful of indexed counts: the
    cost does not grow with the number of raw events.
    """
    until = today or timezone.now().date()
    since = until - timedelta(days=days - 1)
    day_list = [since + timedelta(days=offset) for offset in range(days)]
    position = {day: index for index, day in enumerate(day_list)}
    sums = _RollupSums(days)
    rows = DailyRollup.objects.filter(day__gte=since, day__lte=until).values_list(
        "day", "kind", "key", "count", "total"
    )
    for day, kind, key, count, total in rows:
        sums.add(position[day], kind, key, count, total)
    return Dashboard(
        since=since,
        until=until,
        days=day_list,
        active_installs=sums.active,
        events_by_type=sums.top_event_series(),
        errors_by_version=sums.errors_of_newest_versions(),
        ratings=sorted(sums.ratings.items()),
        module_times=sums.slowest_modules(),
        totals={
            "installs": AnalyticsUser.objects.count(),
            "events": sum(sum(series) for series in sums.events.values()),
            "unresolved_groups": ErrorGroup.objects.filter(status=ErrorGroupStatus.UNRESOLVED).count(),
            "new_feedback": Feedback.objects.filter(status=FeedbackStatus.NEW).count(),
        },
    )


# --- Admin -----------------------------------------------------------------------------------------


TREND_WINDOW = timedelta(hours=24)
# The text search configuration of error reports; migration 0003 indexes the same expression.
REPORT_SEARCH_CONFIG = "english"


def _reports_of_group_since(start: datetime, end: datetime | None = None) -> Coalesce:
    reports = ErrorReport.objects.filter(group=OuterRef("pk"), timestamp__gte=start)
    if end is not None:
        reports = reports.filter(timestamp__lt=end)
    counted = reports.order_by().values("group").annotate(reports=Count("*")).values("reports")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def error_groups_for_review(*, now: datetime | None = None) -> QuerySet[ErrorGroup]:
    """Groups with their trend: reports in the last 24 hours (``reports_last_day``) and in the 24
    hours before (``reports_day_before``).

    Two correlated counts on the (group, time) index (COUNT(*), so PostgreSQL can answer from the
    index alone), evaluated for the rows of the page shown (for every group only when the list is
    sorted by them).
    """
    now = now or timezone.now()
    return ErrorGroup.objects.select_related("resolved_by").annotate(
        reports_last_day=_reports_of_group_since(now - TREND_WINDOW),
        reports_day_before=_reports_of_group_since(now - 2 * TREND_WINDOW, now - TREND_WINDOW),
    )


def error_group_daily_reports(
    *, group: ErrorGroup, days: int = 30, today: date | None = None
) -> tuple[list[date], list[int]]:
    """Reports of one group per UTC day, for the ``days`` days ending ``today`` (days without any count 0).

    Raw reports older than the retention period are gone, so the chart covers at most that.
    """
    until = today or timezone.now().astimezone(UTC).date()
    since = until - timedelta(days=days - 1)
    day_list = [since + timedelta(days=offset) for offset in range(days)]
    rows = (
        ErrorReport.objects.filter(group=group, timestamp__gte=datetime.combine(since, time.min, tzinfo=UTC))
        .annotate(day=TruncDate("timestamp", tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(reports=Count("*"))
        .values_list("day", "reports")
    )
    per_day = dict(rows)
    return day_list, [per_day.get(day, 0) for day in day_list]


def error_reports_matching(queryset: QuerySet[ErrorReport], *, text: str) -> QuerySet[ErrorReport]:
    """Reports whose type or message match ``text``.

    On PostgreSQL: full-text search (web search syntax: words, "quoted phrases", -excluded; english
    stemming, so "retries" finds "retry"), answered by the GIN index on the same expression. On
    SQLite: every word must appear, in any case, in the type or the message.
    """
    if connection.vendor == "postgresql":
        vector = SearchVector("error_type", "error_message", config=REPORT_SEARCH_CONFIG)
        query = SearchQuery(text, config=REPORT_SEARCH_CONFIG, search_type="websearch")
        return queryset.annotate(search=vector).filter(search=query)
    for word in text.split():
        queryset = queryset.filter(Q(error_type__icontains=word) | Q(error_message__icontains=word))
    return queryset


def error_reports_of_group(group: ErrorGroup, limit: int = 20) -> QuerySet[ErrorReport]:
    return ErrorReport.objects.filter(group=group).order_by("-timestamp")[:limit]
