"""The nightly purge: raw records older than ANALYTICS_RETENTION_DAYS are deleted."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from analytics import conf
from analytics.models import ActiveDay, AnalyticsUser, ErrorReport, Feedback, UsageEvent
from analytics.services.audit import SYSTEM, audit_record

logger = logging.getLogger("analytics.retention")


def _delete_in_chunks(queryset, chunk: int) -> int:
    """Delete by primary key in chunks: short transactions, no table-wide lock."""
    deleted = 0
    while True:
        ids = list(queryset.order_by().values_list("pk", flat=True)[:chunk])
        if not ids:
            return deleted
        with transaction.atomic():
            deleted += queryset.model.objects.filter(pk__in=ids).delete()[0]


def retention_purge(*, now: datetime | None = None, days: int | None = None, chunk: int = 10_000) -> dict[str, int]:
    """Delete usage events, error reports, feedback and active days older than the retention
    window, then installs not seen within it that have nothing left. Safe to run twice.

    Daily rollups and error-group counters are anonymous aggregates and are kept.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.RETENTION_DAYS if days is None else days)
    counts = {
        "usage_events": _delete_in_chunks(UsageEvent.objects.filter(timestamp__lt=cutoff), chunk),
        "error_reports": _delete_in_chunks(ErrorReport.objects.filter(timestamp__lt=cutoff), chunk),
        "feedback": _delete_in_chunks(Feedback.objects.filter(timestamp__lt=cutoff), chunk),
        "active_days": _delete_in_chunks(ActiveDay.objects.filter(day__lt=cutoff.date()), chunk),
    }
    stale_installs = (
        AnalyticsUser.objects.filter(Q(last_seen__lt=cutoff) | Q(last_seen__isnull=True, created_at__lt=cutoff))
        .exclude(Exists(UsageEvent.objects.filter(user=OuterRef("pk"))))
        .exclude(Exists(ErrorReport.objects.filter(user=OuterRef("pk"))))
        .exclude(Exists(Feedback.objects.filter(user=OuterRef("pk"))))
        .exclude(Exists(ActiveDay.objects.filter(user=OuterRef("pk"))))
    )
    counts["users"] = _delete_in_chunks(stale_installs, chunk)
    audit_record(actor_label=SYSTEM, action="retention.purge", details={"cutoff": cutoff.isoformat(), **counts})
    logger.info("analytics retention purge", extra={"counts": counts})
    return counts
