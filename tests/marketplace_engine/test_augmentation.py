"""Augmentation: each row followed by ``variations`` noisy copies that keep every constraint."""

from __future__ import annotations

import pytest

from core.errors import DomainError
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from tests.marketplace_engine.conftest import SCHEMA_OF_EVERY_TYPE, field, request_for, rows_of


def augmented(schema, rows, variations, noise, **config):
    augmentation = {"enabled": True, "variations": variations, "noise": noise}
    return rows_of(request_for(schema, rows, augmentation=augmentation, **config))


def test_copies_follow_their_original_and_differ_by_the_noise():
    schema = [field("n", "integer", min=0, max=1000, required=True), field("tier", "enum", enum=["a", "b"])]
    table = augmented(schema, 3000, variations=2, noise=0.05)
    numbers = table.column("n").to_pylist()
    groups = [numbers[start : start + 3] for start in range(0, 3000, 3)]
    spread = [abs(copy - group[0]) for group in groups for copy in group[1:]]
    assert sum(spread) / len(spread) < 100  # sd 50 around the original, within a range of 1000
    assert any(value != 0 for value in spread)


def test_zero_noise_gives_exact_copies_except_unique_fields():
    schema = [field("id", "uuid", unique=True), field("name", "name", required=True), field("x", "float")]
    table = augmented(schema, 300, variations=1, noise=0)
    rows = table.to_pylist()
    for original, copy in zip(rows[0::2], rows[1::2], strict=True):
        assert original["name"] == copy["name"] and original["x"] == copy["x"]
        assert original["id"] != copy["id"]


def test_noisy_rows_still_meet_every_constraint():
    table = augmented(SCHEMA_OF_EVERY_TYPE, 3000, variations=3, noise=0.5)
    for definition in SCHEMA_OF_EVERY_TYPE:
        spec = FieldSpec.from_schema(definition)
        assert not invalid_values(spec, table.column(spec.name)).any(), spec.name
    assert len(set(table.column("id").to_pylist())) == 3000


def test_typos_keep_the_length_of_names():
    table = augmented([field("who", "name", required=True)], 2000, variations=1, noise=1.0)
    names = table.column("who").to_pylist()
    pairs = list(zip(names[0::2], names[1::2], strict=True))
    assert all(len(a) == len(b) for a, b in pairs) and sum(a != b for a, b in pairs) > 500


@pytest.mark.parametrize(
    "augmentation",
    [{"enabled": True, "variations": -1}, {"enabled": True, "variations": 101}, {"enabled": True, "noise": 2}],
)
def test_out_of_range_settings_are_refused(augmentation):
    with pytest.raises(DomainError, match="augmentation"):
        request_for([field("n", "integer")], 10, augmentation=augmentation)
