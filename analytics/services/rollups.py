"""The dashboard's daily counters: added to by the ingest services, rebuilt from raw rows on demand.

An upsert adds to a counter (``count = count + excluded.count``) in one statement that both
SQLite and PostgreSQL understand. Keys are written in sorted order so two transactions touching
the same counters take their row locks in the same order and cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, FloatField, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, TruncDate

from analytics.models import ActiveDay, DailyRollup, ErrorReport, Feedback, RollupKind, UsageEvent

RollupKey = tuple[date, str, str]


class RollupCounter:
    """Increments gathered in memory, written with one statement."""

    def __init__(self) -> None:
        self.counts: dict[RollupKey, list] = defaultdict(lambda: [0, 0.0])

    def add(self, day: date, kind: str, key: str, count: int = 1, total: float = 0.0) -> None:
        cell = self.counts[(day, kind, key[:100])]
        cell[0] += count
        cell[1] += total

    def __bool__(self) -> bool:
        return bool(self.counts)


def rollup_apply(counter: RollupCounter) -> None:
    """Add the counter's increments to the stored rollups (inside the caller's transaction)."""
    if not counter:
        return
    table = connection.ops.quote_name(DailyRollup._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(name) for name in ("day", "kind", "key", "count", "total"))
    count, total, day, kind, key = (
        connection.ops.quote_name(name) for name in ("count", "total", "day", "kind", "key")
    )
    rows = sorted(counter.counts.items())
    params: list = []
    for (row_day, row_kind, row_key), (row_count, row_total) in rows:
        params += [row_day, row_kind, row_key, row_count, row_total]
    values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(rows))
    sql = (
        f"INSERT INTO {table} ({columns}) VALUES {values} "  # noqa: S608 - names are quoted constants
        f"ON CONFLICT ({day}, {kind}, {key}) DO UPDATE SET "
        f"{count} = {table}.{count} + excluded.{count}, {total} = {table}.{total} + excluded.{total}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _replace(counter: RollupCounter, since: date, until: date, kinds: Iterable[str]) -> None:
    DailyRollup.objects.filter(day__gte=since, day__lte=until, kind__in=list(kinds)).delete()
    rollup_apply(counter)


def rollup_rebuild(*, since: date, until: date) -> int:
    """Recompute every rollup of the days [since, until] from the raw rows still stored.

    Use after a bulk load or to repair counters; rows deleted by retention or data-subject
    requests are no longer counted afterwards. Returns the number of rollup rows written.
    """
    counter = RollupCounter()
    start = datetime.combine(since, time.min, tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
    events = (
        UsageEvent.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .annotate(day=TruncDate("timestamp"))
        .values("day", "event_type")
        .annotate(n=Count("id"))
    )
    for row in events:
        counter.add(row["day"], RollupKind.EVENTS, row["event_type"], row["n"])
    module_times = (
        UsageEvent.objects.filter(timestamp__gte=start, timestamp__lt=end, event_data__has_key="execution_time")
        .exclude(event_data__module_name=None)
        .annotate(
            day=TruncDate("timestamp"),
            module=KeyTextTransform("module_name", "event_data"),
            seconds=Cast(KeyTextTransform("execution_time", "event_data"), FloatField()),
        )
        .values("day", "module")
        .annotate(n=Count("id"), total=Sum("seconds"))
    )
    for row in module_times:
        if row["module"]:
            counter.add(row["day"], RollupKind.MODULE_TIME, row["module"], row["n"], row["total"] or 0.0)
    errors = (
        ErrorReport.objects.filter(timestamp__gte=start, timestamp__lt=end)
        .annotate(day=TruncDate("timestamp"))
        .values("day", "jeeves_version")
        .annotate(n=Count("id"))
    )
    for row in errors:
        counter.add(row["day"], RollupKind.ERRORS, row["jeeves_version"], row["n"])
    ratings = (
        Feedback.objects.filter(timestamp__gte=start, timestamp__lt=end, rating__isnull=False)
        .annotate(day=TruncDate("timestamp"))
        .values("day", "rating")
        .annotate(n=Count("id"))
    )
    for row in ratings:
        counter.add(row["day"], RollupKind.RATINGS, str(row["rating"]), row["n"])
    active = ActiveDay.objects.filter(day__gte=since, day__lte=until).values("day").annotate(n=Count("id"))
    for row in active:
        counter.add(row["day"], RollupKind.ACTIVE, "", row["n"])
    with transaction.atomic():
        _replace(counter, since, until, RollupKind.values)
    return len(counter.counts)
