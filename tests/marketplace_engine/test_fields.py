"""Each field type and constraint, generated and then checked value by value."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import orjson
import pytest

from core.errors import DomainError
from marketplace.engine.checks import invalid_values
from marketplace.engine.rows import NULL_SHARE
from marketplace.engine.spec import FieldSpec
from tests.marketplace_engine.conftest import SCHEMA_OF_EVERY_TYPE, field, request_for, rows_of

ROWS = 3000


def values(field_definition: dict, rows: int = ROWS, **config) -> list:
    return rows_of(request_for([field_definition], rows, **config)).column(0).to_pylist()


def present(field_definition: dict, rows: int = ROWS) -> list:
    return [value for value in values(field_definition, rows) if value is not None]


def test_every_documented_type_generates_values_meeting_its_checks():
    table = rows_of(request_for(SCHEMA_OF_EVERY_TYPE, ROWS))
    assert table.num_rows == ROWS and table.column_names == [f["name"] for f in SCHEMA_OF_EVERY_TYPE]
    for definition in SCHEMA_OF_EVERY_TYPE:
        spec = FieldSpec.from_schema(definition)
        assert not invalid_values(spec, table.column(spec.name)).any(), spec.name


def test_integers_stay_within_min_and_max_and_reach_both():
    generated = present(field("n", "integer", min=-3, max=3, required=True))
    assert set(generated) == {-3, -2, -1, 0, 1, 2, 3}


def test_integer_bounds_that_are_not_whole_round_inwards():
    assert set(present(field("n", "integer", min=0.5, max=2.5, required=True))) == {1, 2}


def test_an_integer_range_without_a_whole_number_is_refused():
    with pytest.raises(DomainError, match="no whole number"):
        values(field("n", "integer", min=0.2, max=0.8))


def test_floats_stay_within_bounds_on_a_decimal_grid():
    generated = present(field("x", "float", min=0.1, max=0.2, required=True))
    assert min(generated) >= 0.1 and max(generated) <= 0.2
    assert all(round(value, 4) == value for value in generated)


def test_a_float_with_equal_bounds_is_that_value():
    assert set(present(field("x", "float", min=3.14159, max=3.14159, required=True))) == {3.14159}


def test_booleans_take_both_values():
    assert set(present(field("b", "boolean", required=True))) == {True, False}


def test_dates_and_datetimes_fall_in_the_documented_span():
    days = present(field("d", "date", required=True))
    moments = present(field("t", "datetime", required=True))
    assert all(dt.date(2015, 1, 1) <= day <= dt.date(2025, 12, 31) for day in days)
    assert all(moment.tzinfo is not None and moment.microsecond == 0 for moment in moments)


def test_uuids_are_version_4():
    assert all(uuid.UUID(value).version == 4 for value in present(field("u", "uuid", required=True)))


@pytest.mark.parametrize(
    ("field_type", "shape"),
    [
        ("email", r"[a-z]+\.[a-z]+\d*@[a-z.]+"),
        ("phone", r"\+1-\d{3}-\d{3}-\d{4}"),
        ("url", r"https://www\.[a-z]+\.[a-z]+/[a-z]+/\d+"),
        ("name", r"[A-Z][a-z]+( [A-Z]\.)? [A-Z][a-z]+"),
        ("address", r"\d+ [A-Z][a-z]+ [A-Za-z]+, [A-Z][a-z]+, [A-Z]{2} \d{5}"),
        ("string", r"[a-z]+ [a-z]+ [a-z]+"),
    ],
)
def test_text_kinds_have_their_shape(field_type, shape):
    assert all(re.fullmatch(shape, value) for value in present(field("v", field_type, required=True))), field_type


def test_text_is_two_capitalised_sentences():
    for value in present(field("t", "text", required=True), rows=200):
        sentences = value.split(". ")
        assert len(sentences) == 2 and value.endswith(".") and value[0].isupper()


@pytest.mark.parametrize("field_type", ["string", "text"])
def test_string_and_text_lengths_respect_min_and_max(field_type):
    generated = present(field("s", field_type, min=3, max=9, required=True))
    assert {len(value) for value in generated} == set(range(3, 10))
    assert all(value == value.strip() for value in generated)


def test_names_longer_than_max_are_redrawn():
    assert all(len(value) <= 11 for value in present(field("n", "name", max=11, required=True)))


def test_bounds_a_type_cannot_meet_fail_with_the_field_named():
    with pytest.raises(DomainError, match="'e'"):
        values(field("e", "email", max=4, required=True), rows=50)


def test_enum_fields_draw_every_listed_value_and_nothing_else():
    assert set(present(field("e", "enum", enum=["a", "b", "c"], required=True))) == {"a", "b", "c"}


def test_an_enum_constraint_on_a_number_gives_numbers():
    assert set(present(field("n", "integer", enum=["1", "10"], required=True))) == {1, 10}


def test_enum_values_outside_the_other_constraints_are_never_drawn():
    assert set(present(field("n", "integer", enum=["1", "10", "100"], max=50, required=True))) == {1, 10}


def test_json_fields_hold_json_objects():
    assert all(isinstance(orjson.loads(value), dict) for value in present(field("j", "json", required=True)))


def test_required_fields_are_never_null():
    assert None not in values(field("x", "integer", required=True))


def test_optional_fields_are_null_about_the_documented_share():
    generated = values(field("x", "integer"), rows=20_000)
    share = generated.count(None) / len(generated)
    assert abs(share - NULL_SHARE) < 0.01


def test_a_row_email_follows_its_name_at_balanced_quality():
    table = rows_of(
        request_for(
            [field("who", "name", required=True), field("mail", "email", required=True)], 500, quality="balanced"
        )
    )
    for who, mail in zip(table.column("who").to_pylist(), table.column("mail").to_pylist(), strict=True):
        first, last = who.lower().split(" ")[0], who.lower().split(" ")[-1]
        assert mail.startswith(f"{re.sub('[^a-z]', '', first)}.{re.sub('[^a-z]', '', last)}")


def test_fast_quality_draws_fields_independently():
    table = rows_of(
        request_for([field("who", "name", required=True), field("mail", "email", required=True)], 500, quality="fast")
    )
    matching = sum(
        mail.startswith(who.lower().split(" ")[0] + ".")
        for who, mail in zip(table.column("who").to_pylist(), table.column("mail").to_pylist(), strict=True)
    )
    assert matching < 50


def test_only_the_first_name_and_email_fields_share_a_person():
    schema = [
        field("buyer", "name", required=True),
        field("seller", "name", required=True),
        field("mail", "email", required=True),
    ]
    table = rows_of(request_for(schema, 300, quality="balanced"))
    buyers, sellers = table.column("buyer").to_pylist(), table.column("seller").to_pylist()
    assert sum(b == s for b, s in zip(buyers, sellers, strict=True)) < 10
    assert all(
        mail.startswith(re.sub("[^a-z]", "", buyer.lower().split(" ")[0]) + ".")
        for buyer, mail in zip(buyers, table.column("mail").to_pylist(), strict=True)
    )
