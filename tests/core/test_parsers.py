"""core.parsers.json_body: the JSON every DRF API reads, refused when no API could keep it."""

from __future__ import annotations

import pytest

from core.parsers import JsonBodyError, json_body


@pytest.mark.parametrize("number", ["1e400", "-1e400", "1.5e309", "NaN", "Infinity", "-Infinity"])
def test_a_number_that_is_not_finite_is_refused_wherever_it_is(number):
    with pytest.raises(JsonBodyError):
        json_body(f'{{"ignored": {{"deep": [{number}]}}}}')


def test_finite_numbers_keep_their_reading():
    body = json_body(b'{"big": 1e308, "tiny": 1e-400, "int": 100000000000000000000000000000, "f": 1.5}')

    assert body == {"big": 1e308, "tiny": 0.0, "int": 10**29, "f": 1.5}
    assert isinstance(body["int"], int)
