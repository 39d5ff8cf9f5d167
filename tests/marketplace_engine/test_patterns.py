"""Pattern-driven strings: any regular expression ``re`` accepts, matched in full."""

from __future__ import annotations

import re

import numpy as np
import pytest

from core.errors import DomainError
from marketplace.engine.regex import pattern_generator
from tests.marketplace_engine.conftest import field, request_for, rows_of

PATTERNS = [
    r"^[A-Z]{3}-\d{4}$",
    r"ORD-[0-9]{8}",
    r"(cat|dog|bird)s?",
    r"[a-z]+@[a-z]+\.(com|org)",
    r"\w{2,5}\s\W",
    r"[^abc]{3}",
    r"[é-ï]{2}x",
    r"(?i)hello",
    r"a*b+c?",
    r".{0,3}",
    r"\bfoo\b",
    r"(a|b)\1",
    r"(?P<y>\d\d)-(?P=y)",
    r"(?=.*\d)[a-z0-9]{6}",
    r"(?!x)[xyz]{2}",
    r"[\u4e00-\u4e0f]{1,3}",
    r"\d{3}(-\d{2})?",
    r"[A-F0-9]{8}-[A-F0-9]{4}",
    r"(?:ab){2,4}",
    r"(x|yz){1,3}q",
]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_every_value_matches_the_whole_pattern(pattern):
    column = rows_of(request_for([field("v", "string", pattern=pattern, required=True)], 2000)).column(0)
    compiled = re.compile(pattern)
    assert all(compiled.fullmatch(value) for value in column.to_pylist()), pattern


def test_alternatives_and_optional_parts_are_all_used():
    column = rows_of(request_for([field("v", "string", pattern=r"(cat|dog)s?", required=True)], 500)).column(0)
    assert set(column.to_pylist()) == {"cat", "cats", "dog", "dogs"}


def test_fixed_length_patterns_can_be_decoded_from_an_index():
    generator = pattern_generator(r"[A-C]{2}\d")
    positions = generator.positions()
    assert [len(choices) for choices in positions] == [3, 3, 10]


def test_pattern_and_length_bounds_together_are_honoured():
    column = rows_of(request_for([field("v", "string", pattern=r"[a-z]{1,12}", min=4, max=6, required=True)], 1000))
    assert all(4 <= len(value) <= 6 for value in column.column(0).to_pylist())


def test_a_fixed_length_pattern_outside_the_length_bounds_is_refused():
    with pytest.raises(DomainError, match="outside the length bounds"):
        rows_of(request_for([field("v", "string", pattern=r"\d{4}", max=3)], 10))


def test_a_pattern_nothing_can_match_fails_clearly():
    with pytest.raises(DomainError, match="'v'"):
        rows_of(request_for([field("v", "string", pattern=r"a^b", required=True)], 10))


def test_generation_is_vectorised_for_a_whole_column():
    generator = pattern_generator(r"[A-Z]{3}-\d{4}")
    values = generator.generate(np.random.default_rng(0), 100_000)
    assert len(values) == 100_000 and generator.exact
