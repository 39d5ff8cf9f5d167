"""POST /usage/track (200/400) and POST /usage/batch (up to 500 events, all or nothing)."""

from __future__ import annotations

import pytest

from analytics.models import AnalyticsUser, DailyRollup, RollupKind, UsageEvent
from tests.analytics.conftest import USER_ID, post, track_payload


@pytest.mark.django_db
def test_track_stores_the_event(client, install_registered):
    response = post(client, "/usage/track", track_payload())

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["stored"] is True
    event = UsageEvent.objects.get(pk=body["event_id"])
    assert event.user_id == USER_ID
    assert event.event_type == "workflow_executed"
    assert event.event_data == {"module_name": "code_review", "execution_time": 1.25, "success": True}
    assert event.platform == "Linux" and event.jeeves_version == "1.2.0"


@pytest.mark.django_db
def test_track_from_an_unknown_install_registers_it_on_the_fly(client):
    response = post(client, "/usage/track", track_payload())

    assert response.status_code == 200, response.json()
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert user.auto_registered and user.platform == "Linux" and user.jeeves_version == "1.2.0"
    assert UsageEvent.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_track_for_an_opted_out_install_stores_nothing(client, install_opted_out):
    response = post(client, "/usage/track", track_payload())

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "stored": False, "event_id": None}
    assert not UsageEvent.objects.exists()
    assert not DailyRollup.objects.exists()


@pytest.mark.django_db
def test_track_scrubs_event_data(client, install_registered):
    payload = track_payload(
        event_data={
            "module_name": "code_review",
            "target": "/home/alice/secret-project/main.py",
            "note": "sent by alice@example.com",
            "api_key": "sk-proj-abcdefghijklmnopqrstuvwxyz123456",
            "nested": [{"url": "postgres://admin:hunter2@10.0.0.5/prod"}],
        }
    )

    response = post(client, "/usage/track", payload)

    assert response.status_code == 200, response.json()
    stored = str(UsageEvent.objects.get().event_data)
    for leak in ("alice", "secret-project", "sk-proj", "hunter2", "10.0.0.5"):
        assert leak not in stored
    assert UsageEvent.objects.get().event_data["module_name"] == "code_review"


@pytest.mark.django_db
def test_track_counts_the_event_in_the_daily_rollups(client, install_registered):
    post(client, "/usage/track", track_payload())
    post(client, "/usage/track", track_payload())

    rollups = {(row.kind, row.key): (row.count, row.total) for row in DailyRollup.objects.all()}
    assert rollups[(RollupKind.EVENTS, "workflow_executed")] == (2, 0.0)
    assert rollups[(RollupKind.MODULE_TIME, "code_review")] == (2, 2.5)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"session_id": "not-a-uuid"},
        {"event_type": ""},
        {"timestamp": "2024-13-45T00:00:00Z"},
        {"event_data": {"execution_time": -1}},
        {"event_data": {"execution_time": "fast"}},
        {"event_data": {"success": "yes"}},
        {"event_data": "not an object"},
        {"event_data": {"deep": {"deeper": {"deepest": {"too_deep": {"x": 1}}}}}},
        {"event_data": {f"k{n}": n for n in range(51)}},
        {"event_data": {"items": list(range(101))}},
        {"event_data": {"huge": 10**30}},
        {"system_context": {"platform": "Linux", "jeeves_version": "1.2.0"}},
        {"system_context": {"platform": "Linux", "jeeves_version": "1.2.0", "session_duration": 1, "cwd": "/"}},
        {"system_context": {"platform": 7, "jeeves_version": "1.2.0", "session_duration": 1}},
        {"unexpected": True},
    ],
)
def test_track_rejects_invalid_events(client, install_registered, overrides):
    response = post(client, "/usage/track", track_payload(**overrides))

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert not UsageEvent.objects.exists()


@pytest.mark.django_db
def test_track_requires_the_spec_fields(client):
    payload = track_payload()
    del payload["session_id"]

    response = post(client, "/usage/track", payload)

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["details"] == {"session_id": ["This field is required."]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        # No offset (Python's datetime.now().isoformat()) is UTC
        ("2024-05-01T12:00:00", "2024-05-01T12:00:00+00:00"),
        # ISO 8601 parsers accept offsets up to 23:59, PostgreSQL only up to 15:59 (it answered 500)
        ("2024-05-01T02:00:00-21:00", "2024-05-01T23:00:00+00:00"),
    ],
)
def test_track_stores_timestamps_in_utc(client, sent, stored):
    response = post(client, "/usage/track", track_payload(timestamp=sent))

    assert response.status_code == 200, response.json()
    assert UsageEvent.objects.get().timestamp.isoformat() == stored


# --- batch ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_batch_stores_every_event(client):
    events = [track_payload(user_id=f"{n:016x}", event_type=f"type_{n % 3}") for n in range(500)]

    response = post(client, "/usage/batch", {"events": events})

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "accepted": 500, "stored": 500, "dropped": 0}
    assert UsageEvent.objects.count() == 500
    assert AnalyticsUser.objects.filter(auto_registered=True).count() == 500
    assert sum(
        DailyRollup.objects.filter(kind=RollupKind.EVENTS).values_list("count", flat=True)
    ) == 500  # fmt: skip


@pytest.mark.django_db
def test_batch_with_one_invalid_event_stores_nothing_and_names_it(client):
    events = [track_payload() for _ in range(10)]
    events[7]["timestamp"] = "not a time"

    response = post(client, "/usage/batch", {"events": events})

    assert response.status_code == 400, response.json()
    assert list(response.json()["error"]["details"]["events"]) == ["7"]
    assert "timestamp" in response.json()["error"]["details"]["events"]["7"]
    assert not UsageEvent.objects.exists()
    assert not AnalyticsUser.objects.exists()


@pytest.mark.django_db
def test_batch_failing_in_the_database_stores_nothing(client, monkeypatch):
    # Given the rollup write fails after the events were inserted
    from analytics.services import events

    def broken(counter):
        raise RuntimeError("disk full")

    monkeypatch.setattr(events, "rollup_apply", broken)

    # When a batch arrives
    client.raise_request_exception = False
    response = post(client, "/usage/batch", {"events": [track_payload() for _ in range(5)]})

    # Then the request fails and nothing of it stays
    assert response.status_code == 500, response.content
    assert not UsageEvent.objects.exists()
    assert not AnalyticsUser.objects.exists()


@pytest.mark.django_db
def test_batch_of_more_than_500_events_is_rejected(client):
    events = [track_payload() for _ in range(501)]

    response = post(client, "/usage/batch", {"events": events})

    assert response.status_code == 400, response.json()
    assert not UsageEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{"events": []}, {}, {"events": "x"}, {"events": [], "extra": 1}])
def test_batch_rejects_malformed_bodies(client, body):
    response = post(client, "/usage/batch", body)

    assert response.status_code == 400, response.json()


@pytest.mark.django_db
def test_batch_drops_events_of_opted_out_installs(client, install_opted_out):
    events = [track_payload(), track_payload(user_id="aaaaaaaaaaaaaaaa"), track_payload()]

    response = post(client, "/usage/batch", {"events": events})

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "accepted": 3, "stored": 1, "dropped": 2}
    assert list(UsageEvent.objects.values_list("user_id", flat=True)) == ["aaaaaaaaaaaaaaaa"]


@pytest.mark.django_db
def test_batch_takes_few_queries_whatever_its_size(client, django_assert_max_num_queries):
    events = [track_payload(user_id=f"{n:016x}") for n in range(200)]

    with django_assert_max_num_queries(12):
        response = post(client, "/usage/batch", {"events": events})

    assert response.status_code == 200, response.json()


@pytest.mark.django_db
def test_a_timestamp_that_leaves_the_calendar_in_utc_is_a_400(client):
    response = post(client, "/usage/track", track_payload(timestamp="0001-01-01T00:00:00+05:00"))

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["details"] == {"timestamp": ["timestamp is out of range"]}
