"""PostgreSQL: concurrent ingest keeps groups and counters exact and does not deadlock."""

from __future__ import annotations

import contextlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from analytics import conf
from analytics.models import DailyRollup, ErrorGroup, ErrorGroupAlert, ErrorGroupAlertKind, RollupKind, UsageEvent
from analytics.serializers import AnalyticsBatchRequest, AnalyticsErrorReportRequest, AnalyticsHeartbeatRequest
from analytics.services import alerts
from analytics.services.events import usage_events_track_batch
from analytics.services.installs import heartbeat_record
from analytics.services.reports import error_report_create
from tests.analytics.conftest import error_payload, heartbeat_payload, track_payload

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _in_threads(function, arguments, workers: int = 8):
    def run(argument):
        try:
            return function(argument)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, arguments))


def test_concurrent_first_reports_of_one_error_make_one_group():
    reports = [
        AnalyticsErrorReportRequest.model_validate_json(json.dumps(error_payload(user_id=f"{n:016x}")))
        for n in range(16)
    ]

    _in_threads(lambda report: error_report_create(report=report), reports)

    group = ErrorGroup.objects.get()
    assert (group.count, group.users_affected) == (16, 16)


def test_concurrent_batches_count_every_event_once():
    types = ["alpha", "beta", "gamma"]
    batches = [
        AnalyticsBatchRequest.model_validate_json(
            json.dumps(
                {"events": [track_payload(user_id=f"{n:016x}", event_type=types[(n + i) % 3]) for i in range(30)]}
            )
        )
        for n in range(12)
    ]

    _in_threads(lambda batch: usage_events_track_batch(events=batch.events), batches)

    assert UsageEvent.objects.count() == 360
    counted = sum(DailyRollup.objects.filter(kind=RollupKind.EVENTS).values_list("count", flat=True))
    assert counted == 360


def test_concurrent_heartbeats_count_an_install_once_a_day():
    beats = [AnalyticsHeartbeatRequest.model_validate_json(json.dumps(heartbeat_payload())) for _ in range(10)]

    _in_threads(lambda beat: heartbeat_record(heartbeat=beat), beats)

    assert DailyRollup.objects.get(kind=RollupKind.ACTIVE).count == 1


def test_concurrent_new_groups_never_get_more_alerts_than_the_hourly_cap(monkeypatch):
    # Given a cap of 3 new-group alerts an hour, and recorders that, once they have decided to
    # alert, wait for one another before committing (so none decides after seeing another's commit)
    monkeypatch.setattr(conf, "ALERT_EMAILS", ["triage@example.com"])
    monkeypatch.setattr(conf, "ALERT_NEW_GROUPS_PER_HOUR", 3)
    decided = threading.Barrier(8)
    enqueue = alerts.job_enqueue

    def enqueue_once_all_decided(*args, **kwargs):
        with contextlib.suppress(threading.BrokenBarrierError):  # with the cap exact, the others wait on the counter
            decided.wait(timeout=3)
        return enqueue(*args, **kwargs)

    monkeypatch.setattr(alerts, "job_enqueue", enqueue_once_all_decided)
    reports = [
        AnalyticsErrorReportRequest.model_validate_json(
            json.dumps(error_payload(user_id=f"{n:016x}", version=f"1.{n}.0", error_type=f"Storm{n}Error"))
        )
        for n in range(16)
    ]

    # When 16 new groups are reported at once, 8 at a time, each from another version (so no shared
    # daily-rollup row serializes their transactions before the alert)
    _in_threads(lambda report: error_report_create(report=report), reports)

    # Then every group is stored, 3 are alerted one by one and one summary covers the rest
    assert ErrorGroup.objects.count() == 16
    kinds = list(ErrorGroupAlert.objects.values_list("kind", flat=True))
    assert sorted(kinds) == sorted([ErrorGroupAlertKind.NEW] * 3 + [ErrorGroupAlertKind.NEW_OVER_LIMIT]), kinds
