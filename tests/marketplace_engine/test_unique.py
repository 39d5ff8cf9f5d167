"""``unique``: guaranteed distinct values, or a clear error when the value space is too small."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import DomainError
from marketplace.engine import rows as engine_rows
from marketplace.engine.permutation import KeyedPermutation
from tests.marketplace_engine.conftest import field, request_for, rows_of


@pytest.mark.parametrize("size", [1, 2, 3, 10, 1000, 65_537, 2**40])
def test_the_keyed_permutation_is_a_bijection(size):
    permutation = KeyedPermutation(size, key=7)
    sample = np.arange(min(size, 100_000), dtype=np.uint64)
    permuted = permutation.permute(sample)
    assert len(np.unique(permuted)) == len(sample) and int(permuted.max()) < size


def test_different_keys_give_different_orders():
    sample = np.arange(1000, dtype=np.uint64)
    assert not np.array_equal(KeyedPermutation(1000, 1).permute(sample), KeyedPermutation(1000, 2).permute(sample))


@pytest.mark.parametrize(
    "definition",
    [
        field("u", "integer", min=1, max=25_000, unique=True),
        field("u", "float", min=0, max=3, unique=True),
        field("u", "datetime", unique=True),
        field("u", "uuid", unique=True),
        field("u", "email", unique=True),
        field("u", "name", unique=True),
        field("u", "phone", unique=True),
        field("u", "address", unique=True),
        field("u", "url", unique=True),
        field("u", "string", unique=True),
        field("u", "text", unique=True),
        field("u", "json", unique=True),
        field("u", "string", pattern=r"[A-Z]{2}\d{3}", unique=True),
        field("u", "string", pattern=r"[a-z]{2,6}", unique=True),
        field("u", "string", min=3, max=8, unique=True),
    ],
    ids=lambda definition: f"{definition['type']}-{definition['constraints']}",
)
def test_unique_fields_never_repeat_across_chunks(definition, monkeypatch):
    monkeypatch.setattr(engine_rows, "CHUNK_ROWS", 4000)  # several chunks
    values = rows_of(request_for([definition], 20_000)).column(0).to_pylist()
    assert None not in values and len(set(values)) == len(values)


def test_unique_dates_can_fill_the_whole_date_span():
    values = rows_of(request_for([field("u", "date", unique=True)], 4018)).column(0).to_pylist()
    assert len(set(values)) == 4018


def test_a_unique_field_can_use_its_whole_space():
    values = rows_of(request_for([field("u", "integer", min=1, max=5000, unique=True)], 5000)).column(0).to_pylist()
    assert sorted(values) == list(range(1, 5001))


@pytest.mark.parametrize(
    "definition",
    [
        field("u", "integer", min=1, max=10, unique=True),
        field("u", "boolean", unique=True),
        field("u", "enum", enum=["a", "b"], unique=True),
        field("u", "string", pattern=r"[ab]\d", unique=True),
    ],
)
def test_a_space_smaller_than_the_rows_fails_before_writing(definition):
    with pytest.raises(DomainError) as raised:
        rows_of(request_for([definition], 50))
    assert raised.value.code == "VALIDATION_ERROR"
    assert "must be unique" in raised.value.message and raised.value.details["rows"] == 50


def test_a_variable_pattern_that_runs_out_of_values_fails_clearly():
    # The space bound over-counts ("a", "aa", ...) so only redrawing can find the shortage.
    with pytest.raises(DomainError, match="must be unique"):
        rows_of(request_for([field("u", "string", pattern=r"(a|aa)(a|aa)", unique=True)], 4))


def test_names_gain_a_middle_initial_only_when_the_rows_need_it():
    small = rows_of(request_for([field("n", "name", unique=True)], 100)).column(0).to_pylist()
    assert not any(". " in value for value in small)
