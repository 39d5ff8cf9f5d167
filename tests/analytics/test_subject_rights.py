"""Opt-out (PUT /users/{id}/privacy), export (GET /users/{id}/data), DELETE /users/{id}[?mode=anonymize],
each with the install's proof (X-Install-Secret; tests/analytics/test_install_secret.py covers refusals)."""

from __future__ import annotations

import logging

import pytest

from analytics.models import (
    ActiveDay,
    AnalyticsUser,
    AuditLogEntry,
    DailyRollup,
    ErrorGroup,
    ErrorReport,
    Feedback,
    UsageEvent,
)
from analytics.services.audit import subject_reference
from tests.analytics.conftest import (
    BASE,
    USER_ID,
    error_payload,
    feedback_payload,
    heartbeat_payload,
    post,
    proof,
    register,
    register_payload,
    track_payload,
)

OTHER = "aaaaaaaaaaaaaaaa"


def put(client, path, payload, secret=None):
    import json

    return client.put(f"{BASE}{path}", data=json.dumps(payload), content_type="application/json", **proof(secret))


@pytest.fixture
def install_with_data(db, client):
    """An install that registered, tracked three events, reported two errors, gave feedback, beat.
    Its install secret is the fixture's value."""
    secret = register(client)
    for _ in range(3):
        assert (r := post(client, "/usage/track", track_payload())).status_code == 200, r.content
    for _ in range(2):
        assert (r := post(client, "/errors/report", error_payload())).status_code == 201, r.content
    assert (r := post(client, "/feedback/submit", feedback_payload())).status_code == 201, r.content
    assert (r := post(client, "/users/heartbeat", heartbeat_payload())).status_code == 200, r.content
    # Someone else shares the error group
    assert (r := post(client, "/errors/report", error_payload(user_id=OTHER))).status_code == 201, r.content
    return secret


# --- privacy preference ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_opting_out_stops_storing_anything(client, install_secret):
    # When the install opts out
    response = put(client, f"/users/{USER_ID}/privacy", {"analytics_enabled": False}, install_secret)

    # Then the preference is stored and nothing further is
    assert response.status_code == 200, response.json()
    assert response.json()["analytics_enabled"] is False
    post(client, "/usage/track", track_payload())
    post(client, "/usage/batch", {"events": [track_payload()]})
    post(client, "/errors/report", error_payload())
    post(client, "/feedback/submit", feedback_payload())
    post(client, "/users/heartbeat", heartbeat_payload())
    assert not UsageEvent.objects.exists()
    assert not ErrorReport.objects.exists()
    assert not Feedback.objects.exists()
    assert not ActiveDay.objects.exists()
    assert not DailyRollup.objects.exists()
    assert AnalyticsUser.objects.get().last_seen is None


@pytest.mark.django_db
def test_registering_opted_out_is_honoured(client):
    payload = register_payload()
    payload["privacy_consent"]["analytics_enabled"] = False
    assert (r := post(client, "/users/register", payload)).status_code == 201, r.content

    post(client, "/usage/track", track_payload())

    assert not UsageEvent.objects.exists()


@pytest.mark.django_db
def test_opting_back_in_stores_again(client):
    payload = register_payload()
    payload["privacy_consent"]["analytics_enabled"] = False
    secret = post(client, "/users/register", payload).json()["install_secret"]

    response = put(
        client, f"/users/{USER_ID}/privacy", {"analytics_enabled": True, "privacy_policy_version": "1.1"}, secret
    )

    assert response.status_code == 200, response.json()
    assert response.json()["privacy_consent_version"] == "1.1"
    assert post(client, "/usage/track", track_payload()).json()["stored"] is True


@pytest.mark.django_db
@pytest.mark.parametrize("body", [{}, {"analytics_enabled": "no"}, {"analytics_enabled": False, "email": "x"}])
def test_privacy_rejects_invalid_bodies(client, install_secret, body):
    assert (r := put(client, f"/users/{USER_ID}/privacy", body, install_secret)).status_code == 400, r.content


@pytest.mark.django_db
def test_privacy_change_is_audited_without_the_user_id(client, install_secret):
    put(client, f"/users/{USER_ID}/privacy", {"analytics_enabled": False}, install_secret)

    entry = AuditLogEntry.objects.get(action="subject.privacy")
    assert entry.actor_label == "data-subject" and entry.target == subject_reference(USER_ID)
    assert USER_ID not in str(entry.target) + str(entry.details)


# --- export ----------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_export_returns_everything_stored_for_the_install(client, install_with_data):
    response = client.get(f"{BASE}/users/{USER_ID}/data", **proof(install_with_data))

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok" and body["user_id"] == USER_ID
    assert body["counts"] == {"users": 1, "usage_events": 3, "error_reports": 2, "feedback": 1, "active_days": 1}
    assert len(body["usage_events"]) == 3 and len(body["error_reports"]) == 2
    assert body["user"]["platform"] == "Linux"
    assert body["usage_events"][0]["event_data"]["module_name"] == "code_review"
    assert body["feedback"][0]["message"] == "The review tool hangs on big repositories"
    assert AuditLogEntry.objects.filter(action="subject.export").get().details["usage_events"] == 3


@pytest.mark.django_db
def test_export_with_a_malformed_user_id_is_400(client):
    assert (r := client.get(f"{BASE}/users/not-a-hash/data")).status_code == 400, r.content
    assert (r := client.get(f"{BASE}/users/anonymous/data")).status_code == 400, r.content


@pytest.mark.django_db
def test_export_has_a_bounded_number_of_queries(client, install_with_data, django_assert_max_num_queries):
    for _ in range(20):
        post(client, "/usage/track", track_payload())

    with django_assert_max_num_queries(10):
        assert (r := client.get(f"{BASE}/users/{USER_ID}/data", **proof(install_with_data))).status_code == 200, (
            r.content
        )


# --- delete and anonymize ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_removes_every_row_of_the_install_and_answers_the_counts(client, install_with_data):
    response = client.delete(f"{BASE}/users/{USER_ID}", **proof(install_with_data))

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "status": "ok",
        "user_id": USER_ID,
        "mode": "delete",
        "counts": {"usage_events": 3, "error_reports": 2, "feedback": 1, "active_days": 1, "users": 1},
    }
    assert not AnalyticsUser.objects.filter(pk=USER_ID).exists()
    assert not UsageEvent.objects.exists() and not Feedback.objects.exists() and not ActiveDay.objects.exists()
    assert list(ErrorReport.objects.values_list("user_id", flat=True)) == [OTHER]
    group = ErrorGroup.objects.get()
    assert (group.count, group.users_affected) == (1, 1)
    # The secret went with the install
    assert (r := client.get(f"{BASE}/users/{USER_ID}/data", **proof(install_with_data))).status_code == 401, r.content


@pytest.mark.django_db
def test_anonymize_keeps_the_rows_without_the_identifier(client, install_with_data):
    response = client.delete(f"{BASE}/users/{USER_ID}?mode=anonymize", **proof(install_with_data))

    assert response.status_code == 200, response.json()
    assert response.json()["mode"] == "anonymize"
    assert response.json()["counts"] == {
        "usage_events": 3,
        "error_reports": 2,
        "feedback": 1,
        "active_days": 1,
        "users": 1,
    }
    assert not AnalyticsUser.objects.filter(pk=USER_ID).exists()
    assert UsageEvent.objects.count() == 3
    assert not UsageEvent.objects.filter(user__isnull=False).exists()
    assert not UsageEvent.objects.filter(session_id__isnull=False).exists()
    assert ErrorReport.objects.filter(user__isnull=True).count() == 2
    assert Feedback.objects.filter(user__isnull=True).count() == 1
    assert ErrorGroup.objects.get().count == 3


@pytest.mark.django_db
def test_delete_with_an_unknown_mode_is_400(client, install_secret):
    response = client.delete(f"{BASE}/users/{USER_ID}?mode=shred", **proof(install_secret))

    assert response.status_code == 400, response.json()
    assert AnalyticsUser.objects.filter(pk=USER_ID).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("mode", ["delete", "anonymize"])
def test_delete_and_anonymize_are_audited_and_logged_without_the_user_id(client, install_with_data, caplog, mode):
    caplog.set_level(logging.INFO)

    client.delete(f"{BASE}/users/{USER_ID}?mode={mode}", **proof(install_with_data))

    entry = AuditLogEntry.objects.get(action=f"subject.{mode}")
    assert entry.target == subject_reference(USER_ID) and entry.details["usage_events"] == 3
    subject_lines = [record for record in caplog.records if record.name == "analytics.subjects"]
    assert subject_lines
    assert all(getattr(record, "subject", "") == subject_reference(USER_ID) for record in subject_lines)
    assert all(USER_ID not in record.getMessage() for record in subject_lines)


@pytest.mark.django_db
def test_subject_requests_are_rate_limited_per_client(client, install_secret, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "analytics.subject": (3, 3600)}

    statuses = [client.get(f"{BASE}/users/{USER_ID}/data", **proof(install_secret)).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]
