"""The one rate limiter: counts, headers in each API's format, 429 in the envelope, atomic on Redis."""

import concurrent.futures
import time
from datetime import datetime

import httpx
import pytest

from core import ratelimit

pytestmark = pytest.mark.urls("tests.core.probe_urls")


@pytest.fixture
def probe_limit(settings):
    """The probe scope allows 3 requests a day (a day-long window never rolls over mid-test)."""
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "test.probe": (3, 86400)}
    return 3


@pytest.mark.django_db
def test_requests_within_the_limit_carry_the_remaining_count(client, probe_limit):
    responses = [client.get("/marketplace/v1/__probe/limited") for _ in range(probe_limit)]

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0"]
    assert responses[0]["X-RateLimit-Limit"] == "3"
    assert int(responses[0]["X-RateLimit-Reset"]) > time.time()


@pytest.mark.django_db
def test_request_over_the_limit_is_429_with_retry_after_in_the_envelope(client, probe_limit):
    for _ in range(probe_limit):
        client.get("/cerebro/__probe/limited")

    response = client.get("/cerebro/__probe/limited")

    assert response.status_code == 429, response.json()
    assert response.json()["error"] == "rate_limit_exceeded"
    assert response["X-RateLimit-Remaining"] == "0"
    assert 0 < int(response["Retry-After"]) <= 86400
    assert response["X-RateLimit-Reset"].isdigit()


@pytest.mark.django_db
def test_coder_writes_the_reset_as_an_iso_timestamp(client, probe_limit):
    response = client.get("/coder/__probe/limited")

    assert response.status_code == 200, response.json()
    reset = datetime.fromisoformat(response["X-RateLimit-Reset"].replace("Z", "+00:00"))
    assert reset.timestamp() > time.time()


@pytest.mark.django_db
def test_clients_are_counted_separately(client, probe_limit):
    for _ in range(probe_limit):
        client.get("/coder/__probe/limited", REMOTE_ADDR="10.0.0.1")

    assert (r := client.get("/coder/__probe/limited", REMOTE_ADDR="10.0.0.1")).status_code == 429, r.content
    assert (r := client.get("/coder/__probe/limited", REMOTE_ADDR="10.0.0.2")).status_code == 200, r.content


def test_multiplier_scales_every_limit(settings):
    settings.RATE_LIMITS = {"test.scaled": (100, 60)}
    settings.RATE_LIMIT_MULTIPLIER = 2.5

    assert ratelimit.limit_for("test.scaled") == (250, 60)


def test_unknown_scope_is_a_programming_error():
    with pytest.raises(KeyError, match=r"test\.nope"):
        ratelimit.limit_for("test.nope")


def test_counter_resets_in_the_next_window(monkeypatch, settings):
    settings.RATE_LIMITS = {"test.window": (1, 60)}
    now = 1_700_000_000.0
    monkeypatch.setattr(ratelimit, "clock", lambda: now)
    assert ratelimit.hit("test.window", "someone").allowed
    assert not ratelimit.hit("test.window", "someone").allowed

    monkeypatch.setattr(ratelimit, "clock", lambda: now + 60)

    assert ratelimit.hit("test.window", "someone").allowed


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_requests_at_a_limit_of_100_let_exactly_100_through(live_server, settings):
    # Given a limit of 100 and a live server counting on Redis
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "test.probe": (100, 86400)}
    url = f"{live_server.url}/marketplace/v1/__probe/limited"

    # When 200 requests arrive at once
    def fire(_):
        with httpx.Client(timeout=30) as http:
            return http.post(url).status_code

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(fire, range(200)))

    # Then exactly 100 get through and the rest are told to wait
    assert statuses.count(200) == 100, statuses
    assert statuses.count(429) == 100, statuses


def test_anonymous_clients_are_counted_by_a_keyed_hash_never_their_address(rf):
    first = rf.get("/", REMOTE_ADDR="203.0.113.9")
    second = rf.get("/", REMOTE_ADDR="203.0.113.10")

    identity = ratelimit.client_identity(first)

    assert "203.0.113" not in identity
    assert identity == ratelimit.client_identity(rf.get("/", REMOTE_ADDR="203.0.113.9"))
    assert identity != ratelimit.client_identity(second)
