"""Logs are JSON lines with a request id, and never carry client addresses or credentials."""

import json
import logging
import sys

import pytest

from core.logging import JsonFormatter, RequestContextFilter

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]

CLIENT_ADDRESS = "203.0.113.77"
SECRET_TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.c2lnbmF0dXJl"


@pytest.fixture(autouse=True)
def _probe_limit(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "test.probe": (100, 86400)}


@pytest.fixture
def json_lines():
    """Every record logged during the test, formatted exactly as production formats it."""
    lines: list[str] = []
    formatter, context = JsonFormatter(), RequestContextFilter()

    class Collect(logging.Handler):
        def emit(self, record):
            context.filter(record)
            lines.append(formatter.format(record))

    handler = Collect(level=logging.DEBUG)
    root = logging.getLogger()
    root.addHandler(handler)
    yield lines
    root.removeHandler(handler)


def test_each_request_is_logged_once_with_its_id(client, json_lines):
    response = client.get("/coder/__probe/limited", HTTP_X_REQUEST_ID="req-123")

    entries = [json.loads(line) for line in json_lines if '"core.access"' in line]
    assert response["X-Request-Id"] == "req-123"
    assert len(entries) == 1
    assert entries[0]["request_id"] == "req-123"
    assert entries[0]["route"] == "/coder/__probe/limited" and entries[0]["status"] == 200


def test_the_route_pattern_is_logged_never_the_raw_path(client, json_lines):
    client.get("/coder/__probe/raise/404")

    entries = [json.loads(line) for line in json_lines if '"core.access"' in line]
    assert entries[0]["route"] == "/coder/__probe/raise/<int:status>"
    assert "/raise/404" not in "\n".join(json_lines)


def test_malformed_request_id_is_replaced(client):
    response = client.get("/coder/__probe/limited", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert response["X-Request-Id"] != "bad id\nwith newline"
    assert len(response["X-Request-Id"]) == 32


def test_no_client_address_or_token_reaches_the_logs(client, json_lines):
    client.get(
        f"/coder/__probe/protected?token={SECRET_TOKEN}",
        REMOTE_ADDR=CLIENT_ADDRESS,
        HTTP_X_FORWARDED_FOR=CLIENT_ADDRESS,
        HTTP_AUTHORIZATION=f"Bearer {SECRET_TOKEN}",
    )
    client.get("/coder/__probe/raise/500", REMOTE_ADDR=CLIENT_ADDRESS)

    logged = "\n".join(json_lines)
    assert json_lines
    assert CLIENT_ADDRESS not in logged
    assert SECRET_TOKEN not in logged


def test_sensitive_extra_fields_are_masked():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "msg", None, None)
    record.api_key = "ngb_live_secret"
    record.client_ip = CLIENT_ADDRESS

    line = JsonFormatter().format(record)

    assert "ngb_live_secret" not in line and CLIENT_ADDRESS not in line


def test_a_record_is_one_line_whatever_line_breaks_its_text_holds():
    # Given text with every character a log reader may take for a line break (str.splitlines
    # splits on all of them), in the message, an extra field and an exception
    breaks = "a\nb\rc\x0bd\x0ce\x1cf\x1dg\x1eh\x85i\u2028j\u2029k"
    try:
        raise ValueError(breaks)
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, breaks, None, sys.exc_info())
    record.path_seen = breaks

    # When it is formatted
    line = JsonFormatter().format(record)

    # Then it is one line that reads back as the same text
    assert line.splitlines() == [line]
    assert line.isascii()
    entry = json.loads(line)
    assert entry["message"] == breaks and entry["path_seen"] == breaks
    assert breaks in entry["exception"]


def access_entries(json_lines) -> list[dict]:
    return [json.loads(line) for line in json_lines if '"core.access"' in line]


@pytest.mark.urls("config.urls")
def test_a_static_file_served_is_a_debug_line_under_its_path_class(client, json_lines, caplog):
    # Given a page's static file (WhiteNoise answers it before any URL is resolved), and access
    # lines recorded down to DEBUG
    caplog.set_level(logging.DEBUG, logger="core.access")

    # When it is fetched
    response = client.get("/static/admin/css/base.css")

    # Then its access line is DEBUG (below the default INFO), under /static/<path>, not <unresolved>
    assert response.status_code == 200, response.content
    entries = access_entries(json_lines)
    assert [(entry["level"], entry["route"], entry["status"]) for entry in entries] == [
        ("DEBUG", "/static/<path>", 200)
    ]


@pytest.mark.urls("config.urls")
def test_a_missing_static_file_is_an_info_line_under_its_path_class(client, json_lines):
    response = client.get("/static/admin/css/no-such-file.css")

    assert response.status_code == 404, response.content
    entries = access_entries(json_lines)
    assert [(entry["level"], entry["route"], entry["status"]) for entry in entries] == [("INFO", "/static/<path>", 404)]


@pytest.mark.urls("config.urls")
def test_api_calls_the_landing_page_and_unknown_paths_are_info_lines(client, json_lines):
    # Given an API call, the landing page and a path that matches nothing
    client.get("/health")
    client.get("/")
    client.get("/no/such/path")

    # Then each is one INFO line: its pattern ("/" for the landing page), or <unresolved>
    entries = access_entries(json_lines)
    assert [(entry["level"], entry["route"]) for entry in entries] == [
        ("INFO", "/health"),
        ("INFO", "/"),
        ("INFO", "<unresolved>"),
    ]


def test_a_foreign_host_is_one_access_line_not_an_error_with_a_traceback(client, json_lines):
    # Anyone can send any Host header: Django's DisallowedHost ERROR record (with its stack trace)
    # would let them flood the error level. The access line records the 400.
    response = client.get("/coder/__probe/limited", HTTP_HOST="evil.example.com")

    assert response.status_code == 400, response.content
    records = [json.loads(line) for line in json_lines]
    assert [record["level"] for record in records if record["level"] in ("ERROR", "CRITICAL")] == []
    assert not any("DisallowedHost" in line or "Traceback" in line for line in json_lines)
    assert [record["status"] for record in records if record["logger"] == "core.access"] == [400]


def test_values_orjson_cannot_write_are_logged_as_the_standard_library_writes_them():
    # Given extra fields orjson refuses (an integer beyond 64 bits) or writes its own way
    # (a datetime, a dataclass), beside text outside ASCII
    import dataclasses
    from datetime import UTC, datetime

    @dataclasses.dataclass
    class Point:
        x: int

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "héllo", None, None)
    record.huge = 2**70
    record.moment = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    record.point = Point(1)

    # When it is formatted
    line = JsonFormatter().format(record)

    # Then every value reads back as before, and the line is ASCII
    entry = json.loads(line)
    assert line.isascii()
    assert entry["message"] == "héllo"
    assert entry["huge"] == 2**70
    assert entry["moment"] == "2026-12-05 21:00:00+00:00"
    assert entry["point"].endswith("Point(x=1)")  # str(), not orjson's {"x": 1}


def test_an_access_line_is_written_by_orjson_in_ascii():
    record = logging.LogRecord("core.access", logging.INFO, __file__, 1, "request", None, None)
    record.method, record.route, record.status, record.duration_ms = "GET", "/coder/api/tasks", 200, 1.25

    line = JsonFormatter().format(record)

    assert line.isascii() and '"route":"/coder/api/tasks"' in line
    assert json.loads(line)["duration_ms"] == 1.25
