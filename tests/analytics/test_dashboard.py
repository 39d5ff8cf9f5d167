"""The dashboard's aggregates: rollups kept by ingest equal a rebuild from raw rows; charts are SVG."""

from __future__ import annotations

from datetime import date

import pytest

from analytics import charts
from analytics.models import DailyRollup
from analytics.selectors import dashboard_data
from analytics.services.rollups import rollup_rebuild
from tests.analytics.conftest import error_payload, feedback_payload, heartbeat_payload, post, track_payload


def _rollups() -> set[tuple]:
    return set(DailyRollup.objects.values_list("day", "kind", "key", "count", "total"))


@pytest.fixture
def traffic(db, client):
    """Two days of events, errors, feedback and heartbeats from three installs."""
    for number in range(3):
        user_id = f"{number:016x}"
        for day in ("2024-05-01", "2024-05-02"):
            stamp = f"{day}T0{number}:00:00Z"
            post(client, "/usage/track", track_payload(user_id=user_id, timestamp=stamp))
            post(
                client,
                "/usage/track",
                track_payload(
                    user_id=user_id,
                    timestamp=stamp,
                    event_type="tool_started",
                    event_data={"module_name": "test_gen", "execution_time": number + 1.0},
                ),
            )
            post(client, "/users/heartbeat", heartbeat_payload(user_id=user_id, timestamp=stamp))
        post(client, "/errors/report", error_payload(user_id=user_id, version=f"1.{number}.0", timestamp=stamp))
        post(client, "/feedback/submit", feedback_payload(user_id=user_id, rating=number + 3, timestamp=stamp))


@pytest.mark.django_db
def test_incremental_rollups_equal_a_rebuild_from_raw_rows(traffic):
    incremental = _rollups()

    rollup_rebuild(since=date(2024, 5, 1), until=date(2024, 5, 2))

    assert _rollups() == incremental


@pytest.mark.django_db
def test_dashboard_series(traffic):
    data = dashboard_data(days=3, today=date(2024, 5, 3))

    assert data.days == [date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)]
    assert data.active_installs == [3, 3, 0]
    assert data.events_by_type == {"workflow_executed": [3, 3, 0], "tool_started": [3, 3, 0]}
    assert data.errors_by_version == [("1.2.0", 1), ("1.1.0", 1), ("1.0.0", 1)]
    assert data.ratings == [("1", 0), ("2", 0), ("3", 1), ("4", 1), ("5", 1)]
    names = {name: (round(average, 3), count) for name, average, count in data.module_times}
    assert names == {"test_gen": (2.0, 6), "code_review": (1.25, 6)}
    assert data.totals["installs"] == 3 and data.totals["events"] == 12


@pytest.mark.django_db
def test_dashboard_groups_rare_event_types_as_other(client):
    for number in range(8):
        for _ in range(number + 1):
            post(client, "/usage/track", track_payload(event_type=f"type_{number}", timestamp="2024-05-01T00:00:00Z"))

    data = dashboard_data(days=1, today=date(2024, 5, 1))

    assert list(data.events_by_type) == ["type_7", "type_6", "type_5", "type_4", "type_3", "type_2", "other"]
    assert data.events_by_type["other"] == [1 + 2]


@pytest.mark.django_db
def test_dashboard_takes_a_fixed_number_of_queries(traffic, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):
        dashboard_data(days=90, today=date(2024, 5, 3))


def test_charts_escape_labels():
    svg = charts.horizontal_bars("t", [("<script>alert(1)</script>", 3)])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    svg = charts.stacked_columns("t", [date(2024, 5, 1)], {"<b>": [1], "x": [2]})
    assert "<b>" not in svg and "&lt;b&gt;" in svg


def test_charts_say_when_there_is_no_data():
    assert "No data" in charts.horizontal_bars("t", [])
    assert "No data" in charts.stacked_columns("t", [date(2024, 5, 1)], {"a": [0]})
