"""No client address is stored or logged: not in rows, not in log lines, not in rate-limit keys."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.apps import apps
from django.core.cache import cache

from core.logging import JsonFormatter, RequestContextFilter
from tests.analytics.conftest import (
    BASE,
    USER_ID,
    error_payload,
    feedback_payload,
    heartbeat_payload,
    post,
    proof,
    register_payload,
    track_payload,
)

CLIENT_IP = "203.0.113.77"
FORWARDED_IP = "198.51.100.23"


@pytest.fixture
def every_log_line():
    """Every record any logger emits, formatted the way production writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    previous_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    quiet = {name: logging.getLogger(name).propagate for name in ("django.request", "django.server")}
    for name in quiet:
        logging.getLogger(name).propagate = True  # capture even what settings silence
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous_level)
    for name, propagate in quiet.items():
        logging.getLogger(name).propagate = propagate


def _cache_keys() -> list[str]:
    if hasattr(cache, "_cache"):
        return [str(key) for key in cache._cache]
    from django_redis import get_redis_connection

    return [key.decode() for key in get_redis_connection("default").keys("*")]


@pytest.mark.django_db(transaction=True)
def test_no_client_address_is_stored_or_logged(client, settings, every_log_line):
    # Given requests from a client address, forwarded by the proxy, to every endpoint
    settings.TRUST_X_FORWARDED_FOR = True
    headers = {"REMOTE_ADDR": CLIENT_IP, "HTTP_X_FORWARDED_FOR": f"10.9.9.9, {FORWARDED_IP}"}
    registered = post(client, "/users/register", register_payload(), **headers)
    secret = registered.json()["install_secret"]
    responses = [
        registered,
        post(client, "/usage/track", track_payload(), **headers),
        post(client, "/usage/batch", {"events": [track_payload()]}, **headers),
        post(client, "/errors/report", error_payload(error_message=f"refused by {CLIENT_IP}"), **headers),
        post(client, "/feedback/submit", feedback_payload(), **headers),
        post(client, "/users/heartbeat", heartbeat_payload(), **headers),
        post(client, "/usage/track", {"bad": True}, **headers),
        client.get(f"{BASE}/users/{USER_ID}/data", **headers, **proof(secret)),
        client.delete(f"{BASE}/users/{USER_ID}?mode=anonymize", **headers, **proof(secret)),
    ]
    assert [response.status_code for response in responses] == [201, 200, 200, 201, 201, 200, 400, 200, 200]

    # Then no table of the app holds either address
    for model in apps.get_app_config("analytics").get_models():
        dump = json.dumps(list(model.objects.values()), default=str)
        assert CLIENT_IP not in dump and FORWARDED_IP not in dump, model.__name__

    # And no log line mentions them, nor the install secret
    logged = every_log_line.getvalue()
    assert logged, "the test should have captured log lines"
    assert CLIENT_IP not in logged and FORWARDED_IP not in logged
    assert secret not in logged

    # And the rate limiter keys on a keyed hash, not the address
    keys = _cache_keys()
    assert any("analytics.ingest" in key for key in keys)
    assert not any(CLIENT_IP in key or FORWARDED_IP in key for key in keys)
