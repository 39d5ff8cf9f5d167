"""``POST /generation/preview``: at most 50 rows, synchronous, from the engine."""

from __future__ import annotations

import pyarrow as pa
import pytest
from django.urls import reverse

from marketplace.engine import estimate_cost
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from tests.marketplace.conftest import API
from tests.marketplace_engine.conftest import SCHEMA_OF_EVERY_TYPE, field

pytestmark = pytest.mark.django_db


def preview(client, **config):
    return client.post(f"{API}/generation/preview", {"config": config}, format="json")


def test_a_preview_returns_rows_meeting_the_schema_with_time_and_cost(creator_client):
    r = preview(creator_client, schema=SCHEMA_OF_EVERY_TYPE, rows=25, quality="high")
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


def test_the_same_seed_previews_the_same_rows(creator_client):
    schema = [field("n", "integer", required=True), field("who", "name", required=True)]
    first = preview(creator_client, schema=schema, rows=10, seed=7).json()["preview"]
    assert first == preview(creator_client, schema=schema, rows=10, seed=7).json()["preview"]
    assert first != preview(creator_client, schema=schema, rows=10, seed=8).json()["preview"]


def test_more_than_fifty_rows_is_refused(creator_client):
    r = preview(creator_client, schema=[field("n", "integer")], rows=51)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_an_invalid_schema_is_refused_with_the_field_named(creator_client):
    r = preview(creator_client, schema=[{"name": "x", "type": "colour"}], rows=5)
    assert r.status_code == 400, r.json()
    assert "schema[0]" in r.json()["error"]["details"]


def test_a_unique_field_too_small_for_the_rows_is_refused(creator_client):
    r = preview(creator_client, schema=[field("b", "boolean", unique=True)], rows=5)
    assert r.status_code == 400, r.json()
    assert "must be unique" in r.json()["error"]["message"]


def test_a_preview_needs_a_signed_in_user(api_client):
    r = preview(api_client, schema=[field("n", "integer")], rows=5)
    assert r.status_code == 401, r.json()


def test_the_preview_is_mounted_under_the_api_base_path_with_the_dataset_budget(creator_client, settings):
    # given a dataset operations budget of 2 requests
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "marketplace.datasets": (2, 3600)}
    assert reverse("marketplace-generation-preview") == f"{API}/generation/preview"
    # when the user previews three times
    answers = [preview(creator_client, schema=[field("n", "integer")], rows=1) for _ in range(3)]
    # then the first two are served with the budget's headers and the third is refused
    assert [r.status_code for r in answers] == [200, 200, 429], answers[-1].json()
    assert answers[0].headers["X-RateLimit-Limit"] == "2"
    assert answers[2].json()["error"]["code"] == "RATE_LIMITED"


def test_the_preview_is_in_the_marketplace_openapi_document(api_client):
    r = api_client.get(f"{API}/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert r.status_code == 200, r.json()
    assert "post" in r.json()["paths"]["/marketplace/v1/generation/preview"]


@pytest.mark.parametrize(
    ("constraints", "field_type", "said"),
    [
        ({"min": 10**9, "max": 10**9}, "string", "from 0 to 5000"),  # took the server's memory
        ({"max": 5001}, "text", "from 0 to 5000"),
        ({"min": -1e308, "max": 1e308}, "float", "from -1e+15 to 1e+15"),  # an OverflowError, a 500
    ],
)
def test_bounds_no_generator_can_meet_are_a_400_naming_the_field(creator_client, constraints, field_type, said):
    r = preview(creator_client, rows=5, schema=[{"name": "a", "type": field_type, "constraints": constraints}])
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert any(said in problem for problem in r.json()["error"]["details"]["schema[0]"])


def test_the_text_of_a_row_is_bounded_as_a_whole(creator_client):
    schema = [{"name": f"t{n}", "type": "text", "constraints": {"max": 5000}} for n in range(5)]
    r = preview(creator_client, rows=5, schema=schema)
    assert r.status_code == 400, r.json()
    assert "more than 20000" in r.json()["error"]["message"]


@pytest.mark.parametrize("field_name", ["rows", "seed"])
@pytest.mark.parametrize("value", ["\uff15", "\u0665", "5_0", "5\u2003"])
def test_rows_or_a_seed_written_in_digits_only_pythons_int_reads_are_refused(creator_client, field_name, value):
    config = {"schema": [field("n", "integer")], "rows": 5, field_name: value}

    r = preview(creator_client, **config)

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR", r.json()
    assert field_name in str(r.json()), r.json()


def test_rows_sent_as_a_string_of_ascii_digits_are_still_read(creator_client):
    r = preview(creator_client, schema=[field("n", "integer")], rows="5")

    assert r.status_code == 200, r.json()
    assert len(r.json()["preview"]) == 5
