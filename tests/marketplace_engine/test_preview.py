"""``POST /generation/preview``: at most 50 rows, synchronous, from the engine."""

from __future__ import annotations

import pyarrow as pa
import pytest

from marketplace.engine import estimate_cost
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from tests.marketplace.conftest import API, client_for
from tests.marketplace.factories import WalletProfileFactory
from tests.marketplace_engine.conftest import SCHEMA_OF_EVERY_TYPE, field

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketplace_engine.urls")]


@pytest.fixture
def signed_in_client(db):
    return client_for(WalletProfileFactory().user)


def preview(client, **config):
    return client.post(f"{API}/generation/preview", {"config": config}, format="json")


def test_a_preview_returns_rows_meeting_the_schema_with_time_and_cost(signed_in_client):
    r = preview(signed_in_client, schema=SCHEMA_OF_EVERY_TYPE, rows=25, quality="high")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert len(body["preview"]) == 25 and body["generationTime"] >= 0
    assert body["estimatedCost"] == estimate_cost(25, len(SCHEMA_OF_EVERY_TYPE), "high")
    for definition in SCHEMA_OF_EVERY_TYPE:
        spec = FieldSpec.from_schema(definition)
        values = [row[spec.name] for row in body["preview"]]
        if spec.type in ("date", "datetime"):
            continue  # ISO text in JSON; checked as typed values by the engine's own tests
        kind = {"integer": pa.int64(), "float": pa.float64(), "boolean": pa.bool_()}.get(spec.type, pa.string())
        assert not invalid_values(spec, pa.array(values, kind)).any(), spec.name


def test_the_same_seed_previews_the_same_rows(signed_in_client):
    schema = [field("n", "integer", required=True), field("who", "name", required=True)]
    first = preview(signed_in_client, schema=schema, rows=10, seed=7).json()["preview"]
    assert first == preview(signed_in_client, schema=schema, rows=10, seed=7).json()["preview"]
    assert first != preview(signed_in_client, schema=schema, rows=10, seed=8).json()["preview"]


def test_more_than_fifty_rows_is_refused(signed_in_client):
    r = preview(signed_in_client, schema=[field("n", "integer")], rows=51)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_an_invalid_schema_is_refused_with_the_field_named(signed_in_client):
    r = preview(signed_in_client, schema=[{"name": "x", "type": "colour"}], rows=5)
    assert r.status_code == 400, r.json()
    assert "schema[0]" in r.json()["error"]["details"]


def test_a_unique_field_too_small_for_the_rows_is_refused(signed_in_client):
    r = preview(signed_in_client, schema=[field("b", "boolean", unique=True)], rows=5)
    assert r.status_code == 400, r.json()
    assert "must be unique" in r.json()["error"]["message"]


def test_a_preview_needs_a_signed_in_user(api_client):
    r = preview(api_client, schema=[field("n", "integer")], rows=5)
    assert r.status_code == 401, r.json()
