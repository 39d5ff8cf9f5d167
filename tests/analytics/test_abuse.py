"""Abuse protection without authentication: per-client rate limits with headers, body-size limits."""

from __future__ import annotations

import json

import pytest

from analytics.models import UsageEvent
from tests.analytics.conftest import BASE, post, track_payload


@pytest.mark.django_db
def test_every_answer_carries_rate_limit_headers(client):
    response = post(client, "/usage/track", track_payload())

    assert response.status_code == 200, response.json()
    assert response["X-RateLimit-Limit"] == "600"
    assert int(response["X-RateLimit-Remaining"]) == 599
    assert int(response["X-RateLimit-Reset"]) > 0


@pytest.mark.django_db
def test_errors_also_carry_rate_limit_headers(client):
    response = post(client, "/usage/track", {"nope": 1})

    assert response.status_code == 400, response.json()
    assert "X-RateLimit-Remaining" in response


@pytest.mark.django_db
def test_a_client_over_its_limit_gets_429_in_the_analytics_envelope(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "analytics.ingest": (3, 60)}

    statuses = [post(client, "/usage/track", track_payload()).status_code for _ in range(3)]
    limited = post(client, "/usage/track", track_payload())

    assert statuses == [200, 200, 200]
    assert limited.status_code == 429, limited.json()
    assert limited.json()["status"] == "error"
    assert limited.json()["error"]["code"] == "RATE_LIMITED"
    assert limited["X-RateLimit-Remaining"] == "0" and int(limited["Retry-After"]) >= 1
    assert UsageEvent.objects.count() == 3


@pytest.mark.django_db
def test_limits_are_per_client_address(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "analytics.ingest": (2, 60)}

    first = [post(client, "/usage/track", track_payload(), REMOTE_ADDR="198.51.100.1").status_code for _ in range(3)]
    second = post(client, "/usage/track", track_payload(), REMOTE_ADDR="198.51.100.2").status_code

    assert first == [200, 200, 429]
    assert second == 200


@pytest.mark.django_db
def test_a_batch_counts_as_one_request(client, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "analytics.ingest": (2, 60)}

    response = post(client, "/usage/batch", {"events": [track_payload() for _ in range(50)]})

    assert response.status_code == 200, response.json()
    assert response["X-RateLimit-Remaining"] == "1"


@pytest.mark.django_db
def test_a_body_over_one_megabyte_is_refused_before_it_is_read(client):
    big = json.dumps({"events": [track_payload(event_data={"text": "x" * 3000}) for _ in range(400)]})
    assert len(big) > 1024 * 1024

    response = client.post(f"{BASE}/usage/batch", data=big, content_type="application/json")

    assert response.status_code == 413, response.json()
    assert response.json()["status"] == "error"
    assert response.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"
    assert not UsageEvent.objects.exists()


@pytest.mark.django_db
def test_wrong_method_is_405_in_the_envelope(client):
    response = client.get(f"{BASE}/usage/track")

    assert response.status_code == 405, response.json()
    assert response.json()["status"] == "error"


@pytest.mark.django_db
def test_unknown_path_is_404_in_the_envelope(client):
    response = client.get(f"{BASE}/nothing/here")

    assert response.status_code == 404, response.json()
    assert response.json()["status"] == "error"
