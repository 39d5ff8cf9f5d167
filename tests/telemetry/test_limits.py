"""Rate limits: 100 requests a minute on every tier, 100 calls a day on free, keys per address."""

from __future__ import annotations

import pytest

from core import ratelimit
from telemetry import tiers
from tests.telemetry.conftest import issue_key

STATS = "/telemetry/api/v1/users/me/stats"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("tier", ["pro", "team"])
def test_every_tier_gets_100_requests_a_minute_then_429_with_headers(api_client, team, tier):
    # given
    key = issue_key(f"{tier}@example.com", tier=tier, team=team if tier == "team" else None)
    for _ in range(100):
        r = api_client.get(STATS, **key.headers())
        assert r.status_code == 200, r.json()
    assert r["X-RateLimit-Limit"] == "100"
    assert r["X-RateLimit-Remaining"] == "0"
    # when
    r = api_client.get(STATS, **key.headers())
    # then
    assert r.status_code == 429, r.json()
    assert r.json()["success"] is False
    assert r.json()["error"]["code"] == "RATE_LIMITED"
    assert r["X-RateLimit-Limit"] == "100"
    assert r["X-RateLimit-Remaining"] == "0"
    assert 0 < int(r["Retry-After"]) <= 60
    assert int(r["X-RateLimit-Reset"]) > 0


def test_the_limit_is_per_account_whatever_the_anonymous_id(api_client, pro_key):
    for number in range(100):
        api_client.get(STATS, **pro_key.headers(f"anon-client{number:03d}"))
    r = api_client.get(STATS, **pro_key.headers("anon-fresh-client"))
    assert r.status_code == 429, r.json()


def test_the_free_tier_gets_100_calls_a_day(api_client, free_key, pro_key):
    # given: both accounts already made 100 calls today (in earlier minutes)
    for key in (free_key, pro_key):
        ratelimit.hit("telemetry.daily_free", tiers.rate_limit_identity(key.key), cost=100)
    # when
    free = api_client.get(STATS, **free_key.headers())
    pro = api_client.get(STATS, **pro_key.headers())
    # then
    assert free.status_code == 429, free.json()
    assert int(free["Retry-After"]) > 60  # the daily window, not the minute
    assert pro.status_code == 200, pro.json()


def test_keys_are_limited_per_client_address(api_client):
    for number in range(10):
        r = api_client.post("/telemetry/api/v1/keys", {"email": f"k{number}@example.com"}, format="json")
        assert r.status_code == 201, r.json()
    r = api_client.post("/telemetry/api/v1/keys", {"email": "k10@example.com"}, format="json")
    assert r.status_code == 429, r.json()
    assert r.json()["error"]["code"] == "RATE_LIMITED"
    other = api_client.post(
        "/telemetry/api/v1/keys", {"email": "k11@example.com"}, format="json", REMOTE_ADDR="192.0.2.50"
    )
    assert other.status_code == 201, other.json()
