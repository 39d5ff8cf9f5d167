"""No client address is logged or stored anywhere, whatever the request does."""

from __future__ import annotations

import logging

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection

from core.logging import JsonFormatter
from tests.telemetry.factories import learning, upload_body

CLIENT_ADDRESS = "203.0.113.197"
FORWARDED_ADDRESS = "198.51.100.233"
ADDRESS_HEADERS = {"REMOTE_ADDR": CLIENT_ADDRESS, "HTTP_X_FORWARDED_FOR": f"{FORWARDED_ADDRESS}, {CLIENT_ADDRESS}"}


def _leaks(text: str) -> bool:
    return CLIENT_ADDRESS in text or FORWARDED_ADDRESS in text


def _every_request(api_client, key_headers):
    """One of each kind of answer: success, validation error, auth error, 404, 429."""
    yield api_client.post("/telemetry/api/v1/keys", {"email": "who@example.com"}, format="json", **ADDRESS_HEADERS)
    yield api_client.get("/telemetry/health", **ADDRESS_HEADERS)
    yield api_client.post(
        "/telemetry/api/v1/learnings", upload_body([learning()]), format="json", **key_headers, **ADDRESS_HEADERS
    )
    yield api_client.post(
        "/telemetry/api/v1/learnings",
        upload_body([learning(errorSignature="raw text")]),
        format="json",
        **key_headers,
        **ADDRESS_HEADERS,
    )
    yield api_client.get("/telemetry/api/v1/patterns?limit=5", **key_headers, **ADDRESS_HEADERS)
    yield api_client.get("/telemetry/api/v1/users/me/stats", **key_headers, **ADDRESS_HEADERS)
    yield api_client.get("/telemetry/api/v1/users/me/stats", HTTP_AUTHORIZATION="Bearer nope", **ADDRESS_HEADERS)
    yield api_client.get("/telemetry/api/v1/nowhere", **key_headers, **ADDRESS_HEADERS)
    for _ in range(11):  # past the keys limit: a 429
        last = api_client.post(
            "/telemetry/api/v1/keys", {"email": "again@example.com"}, format="json", **ADDRESS_HEADERS
        )
    yield last


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("trust_forwarded", [False, True])
def test_no_client_address_reaches_a_log_the_database_or_the_cache(
    api_client, free_key, caplog, settings, trust_forwarded
):
    # given: every logger at DEBUG, behind a proxy or not
    settings.TRUST_X_FORWARDED_FOR = trust_forwarded
    caplog.set_level(logging.DEBUG)
    # when
    statuses = [r.status_code for r in _every_request(api_client, free_key.headers())]
    # then: every kind of answer was exercised
    assert {200, 201, 400, 401, 404, 429} <= set(statuses)
    # and no log record carries the address, in any field or as formatted
    formatter = JsonFormatter()
    assert caplog.records
    for record in caplog.records:
        assert not _leaks(formatter.format(record)), record.__dict__
        assert not _leaks(repr(record.__dict__)), record.__dict__
    # and no row of any table holds it
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                assert not _leaks(repr(row)), (table, row)
    # and no cache key or value does either
    assert not _leaks(repr(_cache_contents()))


def _cache_contents() -> list:
    if settings.REDIS_URL:
        from django_redis import get_redis_connection

        redis = get_redis_connection("default")
        return [(key, redis.dump(key)) for key in redis.scan_iter("*")]
    return list(cache._cache.items())  # locmem: keys and pickled values
