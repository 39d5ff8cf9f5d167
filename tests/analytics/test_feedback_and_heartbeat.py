"""POST /feedback/submit (201/400) and POST /users/heartbeat (200/400)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from analytics.models import ActiveDay, AnalyticsUser, DailyRollup, Feedback, FeedbackStatus, RollupKind
from tests.analytics.conftest import USER_ID, feedback_payload, heartbeat_payload, post


@pytest.mark.django_db
def test_feedback_is_stored_new_and_scrubbed(client, install_registered):
    payload = feedback_payload(
        message="Crashes when I open /Users/bob/Clients/acme/plan.docx, mail me at bob@acme.com",
        metadata={"additional_context": {"password": "hunter2", "path": "C:\\Users\\bob\\x.txt"}},
    )

    response = post(client, "/feedback/submit", payload)

    assert response.status_code == 201, response.json()
    feedback = Feedback.objects.get(pk=response.json()["feedback_id"])
    assert feedback.status == FeedbackStatus.NEW and feedback.rating == 3
    assert feedback.message == "Crashes when I open <path>, mail me at <email>"
    assert "hunter2" not in str(feedback.metadata) and "bob" not in str(feedback.metadata)
    assert feedback.platform == "macOS"
    assert DailyRollup.objects.get(kind=RollupKind.RATINGS, key="3").count == 1


@pytest.mark.django_db
def test_feedback_metadata_keys_that_scrub_alike_keep_every_value(client, install_registered):
    payload = feedback_payload(metadata={"/home/alice/a.txt": "first", "/home/bob/b.txt": "second"})

    response = post(client, "/feedback/submit", payload)

    assert response.status_code == 201, response.json()
    assert Feedback.objects.get().metadata == {"<path>": "first", "<path>#2": "second"}


@pytest.mark.django_db
@pytest.mark.parametrize("feedback_type", ["bug", "feature_request", "general"])
def test_feedback_accepts_each_type(client, feedback_type):
    assert (r := post(client, "/feedback/submit", feedback_payload(feedback_type=feedback_type))).status_code == 201, (
        r.content
    )


@pytest.mark.django_db
def test_feedback_without_rating_is_accepted(client):
    payload = feedback_payload()
    del payload["rating"]

    response = post(client, "/feedback/submit", payload)

    assert response.status_code == 201, response.json()
    assert Feedback.objects.get().rating is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"rating": 0},
        {"rating": 6},
        {"rating": 4.5},
        {"rating": "5"},
        {"feedback_type": "praise"},
        {"message": ""},
        {"metadata": {"additional_context": {"a": {"b": {"c": {"d": 1}}}}}},
        {"system_info": {"platform": "Linux"}},
        {"email": "someone@example.com"},
    ],
)
def test_feedback_rejects_invalid_data(client, overrides):
    response = post(client, "/feedback/submit", feedback_payload(**overrides))

    assert response.status_code == 400, response.json()
    assert not Feedback.objects.exists()


@pytest.mark.django_db
def test_heartbeat_updates_last_seen_and_counts_the_install_active(client, install_registered):
    response = post(client, "/users/heartbeat", heartbeat_payload(timestamp="2024-05-01T10:00:00Z"))

    assert response.status_code == 200, response.json()
    assert response.json()["stored"] is True
    assert response.json()["last_seen"].startswith("2024-05-01T10:00:00")
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert user.last_seen == datetime(2024, 5, 1, 10, tzinfo=UTC)
    assert ActiveDay.objects.filter(user=user, day="2024-05-01").exists()


@pytest.mark.django_db
def test_heartbeats_count_an_install_once_per_day(client, install_registered):
    for hour in (1, 5, 9):
        post(client, "/users/heartbeat", heartbeat_payload(timestamp=f"2024-05-01T{hour:02d}:00:00Z"))
    post(client, "/users/heartbeat", heartbeat_payload(timestamp="2024-05-02T01:00:00Z"))

    active = dict(DailyRollup.objects.filter(kind=RollupKind.ACTIVE).values_list("day", "count"))
    assert {day.isoformat(): count for day, count in active.items()} == {"2024-05-01": 1, "2024-05-02": 1}


@pytest.mark.django_db
def test_an_older_heartbeat_never_moves_last_seen_back(client, install_registered):
    post(client, "/users/heartbeat", heartbeat_payload(timestamp="2024-05-02T00:00:00Z"))
    post(client, "/users/heartbeat", heartbeat_payload(timestamp="2024-05-01T00:00:00Z"))

    assert AnalyticsUser.objects.get().last_seen == datetime(2024, 5, 2, tzinfo=UTC)


@pytest.mark.django_db
def test_heartbeat_records_an_upgrade(client, install_registered):
    post(client, "/users/heartbeat", heartbeat_payload(jeeves_version="1.3.0"))

    assert AnalyticsUser.objects.get().jeeves_version == "1.3.0"


@pytest.mark.django_db
def test_heartbeat_from_an_unknown_install_registers_it(client):
    response = post(client, "/users/heartbeat", heartbeat_payload())

    assert response.status_code == 200, response.json()
    assert AnalyticsUser.objects.get(pk=USER_ID).auto_registered


@pytest.mark.django_db
def test_heartbeat_of_an_opted_out_install_stores_nothing(client, install_opted_out):
    response = post(client, "/users/heartbeat", heartbeat_payload())

    assert response.status_code == 200, response.json()
    assert response.json()["stored"] is False
    assert AnalyticsUser.objects.get().last_seen is None
    assert not ActiveDay.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "overrides",
    [
        {"session_duration": -1},
        {"session_duration": "long"},
        {"jeeves_version": "latest"},
        {"timestamp": (datetime.now(UTC) + timedelta(days=3)).isoformat()},
        {"session_id": 5},
        {"user_id": "nope"},
        {"cpu": 99},
    ],
)
def test_heartbeat_rejects_invalid_data(client, install_registered, overrides):
    response = post(client, "/users/heartbeat", heartbeat_payload(**overrides))

    assert response.status_code == 400, response.json()
    assert AnalyticsUser.objects.get().last_seen is None
