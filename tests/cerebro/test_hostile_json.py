"""Bodies no API may keep (core.parsers): too deep, or holding a lone surrogate, are a 400 in the
API's own envelope at every JSON entry point; nothing is stored; deep data stored earlier still
renders."""

from __future__ import annotations

import json

import pytest

from cerebro.models import Memory
from core.parsers import MAX_JSON_DEPTH, JsonBodyError, checked_json
from core.renderers import dumps
from ledger.models import LedgerObject

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    """A JSON object ``depth`` levels deep (the outermost counts as one)."""
    return '{"a":' * (depth - 1) + '{"a":1}' + "}" * (depth - 1)


DEEP_BODIES = {
    "just over the limit": lambda where: where(nested(MAX_JSON_DEPTH)),  # inside the body's own object
    "past the renderer's 255 levels": lambda where: where(nested(260)),
    "past Python's recursion limit": lambda where: where("[" * 5000 + "]" * 5000),
}
ENDPOINTS = {
    "memory upsert": ("/cerebro/api/memory/upsert", lambda v: f'{{"key":"deep","content":{v}}}'),
    "ledger object": ("/cerebro/api/ledger/objects", lambda v: f'{{"typeName":"deep","data":{v}}}'),
    "chat": ("/cerebro/api/chat", lambda v: f'{{"messages":{v}}}'),
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("body", DEEP_BODIES)
def test_a_body_nested_too_deep_is_a_400_and_stores_nothing(signed_in, endpoint, body):
    path, where = ENDPOINTS[endpoint]
    r = signed_in.post(path, DEEP_BODIES[body](where), content_type="application/json")
    assert r.status_code == 400, r.content[:300]
    assert r.json()["error"] == "bad_request"
    assert "nested deeper" in r.json()["message"]
    assert not Memory.objects.exists() and not LedgerObject.objects.exists()


def test_a_body_at_the_limit_is_kept_and_answered(signed_in):
    content = nested(MAX_JSON_DEPTH - 1)  # the body's own object is one more level
    r = signed_in.post(
        "/cerebro/api/memory/upsert", f'{{"key":"deep","content":{content}}}', content_type="application/json"
    )
    assert r.status_code == 200, r.content[:300]
    search = signed_in.post("/cerebro/api/memory/search", {}, format="json")
    assert search.status_code == 200, search.json()
    assert search.json()["memories"][0]["content"] == json.loads(content)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/cerebro/api/memory/upsert", '{"key":"sur","content":{"a":"\\ud800"}}'),
        ("/cerebro/api/memory/upsert", '{"key":"sur","content":{"\\udc00":"key"}}'),
        ("/cerebro/api/memory/rag", '{"query":"x","hints":{"context":"\\ud800"}}'),
        ("/cerebro/api/ledger/objects", '{"typeName":"t","data":{"a":["\\udfff"]}}'),
    ],
)
def test_a_lone_surrogate_is_a_400(signed_in, path, body):
    r = signed_in.post(path, body, content_type="application/json")
    assert r.status_code == 400, r.content[:300]
    assert "valid Unicode" in r.json()["message"]
    assert not Memory.objects.exists() and not LedgerObject.objects.exists()


def test_the_apps_text_bodies_are_checked_too(signed_in):
    # The minicontratos app posts JSON.stringify(...) as text/plain (cerebro.api.PlainTextJsonParser).
    r = signed_in.patch("/cerebro/api/vote", "[" * 5000 + "]" * 5000, content_type="text/plain")
    assert r.status_code == 400, r.content[:300]


def test_the_checks_are_iterative_and_leave_good_values_as_they_are():
    good = {"é": ["ok", {"n": 10**30}], "emoji": "🙂"}
    assert checked_json(good) is good
    with pytest.raises(JsonBodyError):
        checked_json(json.loads("[" * 900 + "]" * 900))


def test_data_stored_deeper_than_orjson_renders_still_renders():
    # Rows written before the limit: the renderer takes the standard library's encoder for them.
    value = json.loads(nested(300))
    assert json.loads(dumps({"data": value})) == {"data": value}
