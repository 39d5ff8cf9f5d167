"""Text with a NUL character is a 400 naming the field: PostgreSQL stores none (it was a 500)."""

from __future__ import annotations

import pytest

from analytics.models import ErrorReport, Feedback, UsageEvent
from tests.analytics.conftest import error_payload, feedback_payload, post, track_payload

pytestmark = pytest.mark.django_db

CASES = {
    "event type": ("/usage/track", track_payload(event_type="a\u0000b"), {"event_type"}),
    "event data value": ("/usage/track", track_payload(event_data={"k": "a\u0000b"}), {"event_data"}),
    "event data key": ("/usage/track", track_payload(event_data={"k\u0000": "1"}), {"event_data"}),
    "error message": ("/errors/report", error_payload(error_message="x\u0000y"), {"error_message"}),
    "feedback": ("/feedback/submit", feedback_payload(message="x\u0000y"), {"message"}),
}


@pytest.mark.parametrize("case", CASES)
def test_text_with_a_nul_character_is_a_400_naming_its_field(client, install_registered, case):
    path, payload, fields = CASES[case]
    r = post(client, path, payload)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert set(r.json()["error"]["details"]) == fields
    assert not (UsageEvent.objects.exists() or ErrorReport.objects.exists() or Feedback.objects.exists())


def test_text_that_spells_the_escape_is_kept(client, install_registered):
    # "\\u0000" in the JSON text is a backslash and "u0000": no NUL character.
    r = post(client, "/usage/track", track_payload(event_data={"k": "\\u0000"}))
    assert r.status_code == 200, r.json()
