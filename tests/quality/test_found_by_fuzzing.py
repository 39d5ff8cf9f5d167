"""Bugs the fuzzing gate found and that were fixed in core/ or the marketplace, kept as regressions."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from core.renderers import dumps
from tests.conftest import bearer_for

pytestmark = pytest.mark.django_db


def test_integers_past_64_bits_render_instead_of_failing():
    # Found on POST /cerebro/api/memory/upsert: a JSON body holding 2**70 was stored, then its echo
    # failed in orjson ("Integer exceeds 64-bit range") and the client got a 500.
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    rendered = dumps({"big": 2**70, "negative": -(2**65), "at": moment, "list": [1.5, "x", None]})
    assert json.loads(rendered) == {
        "big": 2**70,
        "negative": -(2**65),
        "at": "2026-01-02T03:04:05+00:00",
        "list": [1.5, "x", None],
    }


def test_ordinary_answers_still_render_with_orjson():
    assert dumps({"a": 1, "b": [True, None]}) == b'{"a":1,"b":[true,null]}'


@pytest.mark.parametrize("field_type", [{"nested": "object"}, ["list"], 7, None])
def test_a_dataset_field_type_that_is_not_a_string_is_a_400(api_client, user, field_type):
    # Found on POST /marketplace/v1/datasets: {"schema": [{"type": {}}]} raised TypeError
    # (unhashable type) inside the validator and answered 500.
    api_client.credentials(**bearer_for(user, "marketplace"))
    r = api_client.post(
        "/marketplace/v1/datasets",
        {
            "name": "Fuzzed",
            "description": "d",
            "category": "finance",
            "datasetType": "custom",
            "schema": [{"name": "amount", "type": field_type}],
            "config": {"rows": 10, "format": "json"},
        },
        format="json",
    )
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
