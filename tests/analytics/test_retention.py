"""The retention job deletes raw records older than ANALYTICS_RETENTION_DAYS; the beat runs it daily."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.conf import settings

from analytics import conf
from analytics.models import ActiveDay, AnalyticsUser, AuditLogEntry, DailyRollup, ErrorReport, Feedback, UsageEvent
from analytics.services.retention import retention_purge
from analytics.tasks import retention_purge_task
from tests.analytics.factories import AnalyticsUserFactory, ErrorReportFactory, FeedbackFactory, UsageEventFactory

NOW = datetime(2025, 6, 1, tzinfo=UTC)


@pytest.fixture
def records_old_and_new(db):
    """One install with records 400 days old (past retention) and 10 days old (kept)."""
    user = AnalyticsUserFactory(last_seen=NOW - timedelta(days=10))
    stale = AnalyticsUserFactory(last_seen=NOW - timedelta(days=500))
    old, new = NOW - timedelta(days=400), NOW - timedelta(days=10)
    for moment in (old, new):
        UsageEventFactory(user=user, timestamp=moment)
        ErrorReportFactory(user=user, timestamp=moment)
        FeedbackFactory(user=user, timestamp=moment)
        ActiveDay.objects.create(user=user, day=moment.date())
    UsageEventFactory(user=stale, timestamp=old)
    DailyRollup.objects.create(day=old.date(), kind="events", key="workflow_executed", count=2)
    return user, stale


def test_the_default_retention_is_a_year():
    assert conf.RETENTION_DAYS == 365


def test_the_beat_schedule_runs_the_purge():
    entry = settings.CELERY_BEAT_SCHEDULE["analytics-retention-purge"]
    assert entry["task"] == retention_purge_task.name


@pytest.mark.django_db
def test_purge_deletes_only_what_is_past_retention(records_old_and_new):
    user, _stale = records_old_and_new

    counts = retention_purge(now=NOW)

    assert counts == {"usage_events": 2, "error_reports": 1, "feedback": 1, "active_days": 1, "users": 1}
    cutoff = NOW - timedelta(days=365)
    for model in (UsageEvent, ErrorReport, Feedback):
        assert not model.objects.filter(timestamp__lt=cutoff).exists()
        assert model.objects.count() == 1
    assert list(ActiveDay.objects.values_list("day", flat=True)) == [(NOW - timedelta(days=10)).date()]
    assert list(AnalyticsUser.objects.values_list("pk", flat=True)) == [user.pk]
    # Aggregates stay
    assert DailyRollup.objects.filter(day=(NOW - timedelta(days=400)).date()).exists()
    assert AuditLogEntry.objects.get(action="retention.purge").details["usage_events"] == 2


@pytest.mark.django_db
def test_purge_twice_is_harmless(records_old_and_new):
    retention_purge(now=NOW)

    assert retention_purge(now=NOW) == {
        "usage_events": 0,
        "error_reports": 0,
        "feedback": 0,
        "active_days": 0,
        "users": 0,
    }


@pytest.mark.django_db
def test_purge_works_in_chunks(db):
    user = AnalyticsUserFactory(last_seen=NOW)
    UsageEventFactory.create_batch(25, user=user, timestamp=NOW - timedelta(days=800))

    assert retention_purge(now=NOW, chunk=10)["usage_events"] == 25


@pytest.mark.django_db
def test_retention_days_come_from_settings(db, monkeypatch):
    monkeypatch.setattr(conf, "RETENTION_DAYS", 30)
    user = AnalyticsUserFactory(last_seen=NOW)
    UsageEventFactory(user=user, timestamp=NOW - timedelta(days=31))
    UsageEventFactory(user=user, timestamp=NOW - timedelta(days=29))

    assert retention_purge(now=NOW)["usage_events"] == 1


@pytest.mark.django_db
def test_the_task_runs_the_purge(db):
    user = AnalyticsUserFactory(last_seen=datetime.now(UTC))
    UsageEventFactory(user=user, timestamp=datetime.now(UTC) - timedelta(days=conf.RETENTION_DAYS + 5))

    result = retention_purge_task.delay()

    assert result.get()["usage_events"] == 1
    assert date.today()  # the task ran in-process (eager)
