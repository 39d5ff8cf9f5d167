"""NaN, Infinity and 1e400 in a free-form object are a 400 naming the field: none is JSON, and
storing one was a 500 (SQLite's JSON_VALID, PostgreSQL's jsonb) or a silent null (the batch COPY)."""

from __future__ import annotations

import json

import pytest

from analytics.models import ErrorReport, Feedback, UsageEvent
from tests.analytics.conftest import error_payload, feedback_payload, post, track_payload

pytestmark = pytest.mark.django_db

LITERALS = ["NaN", "Infinity", "-Infinity", "1e400"]
FREE_FORM = {
    "feedback metadata": ("/feedback/submit", feedback_payload, "metadata"),
    "event data": ("/usage/track", track_payload, "event_data"),
    "error context": ("/errors/report", error_payload, "context"),
}


def _with_number(payload: dict, literal: str) -> str:
    """``payload`` as JSON text with ``literal`` where the placeholder 0 was (json.dumps cannot write it)."""
    return json.dumps(payload).replace('"number": 0', f'"number": {literal}')


def _nothing_stored() -> bool:
    return not (UsageEvent.objects.exists() or ErrorReport.objects.exists() or Feedback.objects.exists())


@pytest.mark.parametrize("literal", LITERALS)
@pytest.mark.parametrize("case", FREE_FORM)
def test_a_non_finite_number_in_a_free_form_object_is_a_400_naming_its_field(client, install_registered, case, literal):
    path, payload, field = FREE_FORM[case]
    body = _with_number(payload(**{field: {"nested": {"number": 0}}}), literal)

    r = post(client, path, body)

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert set(r.json()["error"]["details"]) == {field}
    assert _nothing_stored()


@pytest.mark.parametrize("literal", LITERALS)
def test_a_non_finite_number_in_one_batch_event_refuses_the_batch(client, install_registered, literal):
    # Given a batch of three events (COPY on PostgreSQL), one holding a non-finite number
    bad = _with_number(track_payload(event_data={"number": 0}), literal)
    body = '{"events": [' + ", ".join([json.dumps(track_payload()), bad, json.dumps(track_payload())]) + "]}"

    # When sent
    r = post(client, "/usage/batch", body)

    # Then the batch is refused and nothing (not even a null in its place) is stored
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert _nothing_stored()


def test_a_large_finite_number_is_kept(client, install_registered):
    r = post(client, "/usage/track", track_payload(event_data={"number": 1e300}))
    assert r.status_code == 200, r.json()
    assert float(UsageEvent.objects.get().event_data["number"]) == 1e300  # jsonb may read it back as an int
