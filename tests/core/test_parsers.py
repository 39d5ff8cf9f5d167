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


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "\\ud800"}',
        b'{"\\udfff": 1}',
        b'["ok", {"deep": ["\\uDBFF"]}]',
        b'{"text": "\xed\xa0\x80"}',  # a surrogate's UTF-8 form, which the standard library lets through
        '"\ud800"',  # already text
        '"\ud800"'.encode("utf-16-le", "surrogatepass"),
    ],
    ids=["escape", "escape-in-a-key", "upper-case-escape-deep", "utf-8-bytes", "text", "utf-16"],
)
def test_a_lone_surrogate_is_refused_however_it_is_written(body):
    with pytest.raises(JsonBodyError, match="lone surrogate"):
        json_body(body)


@pytest.mark.parametrize(
    ("body", "value"),
    [
        (b'"\\ud83d\\ude00"', "\U0001f600"),  # a pair is one character
        (b'"\\\\ud800"', "\\ud800"),  # an escaped backslash, then text
        ('{"é": "ü"}'.encode(), {"é": "ü"}),
    ],
    ids=["surrogate-pair", "escaped-backslash", "non-ascii"],
)
def test_text_that_only_looks_like_a_surrogate_is_read(body, value):
    assert json_body(body) == value


@pytest.mark.parametrize(("depth", "refused"), [(64, False), (65, True), (10_000, True)])
def test_arrays_and_objects_nest_at_most_64_levels(depth, refused):
    arrays = "[" * depth + "]" * depth
    objects = '{"a": ' * (depth - 1) + "[]" + "}" * (depth - 1)
    for body in (arrays, objects):
        if refused:
            with pytest.raises(JsonBodyError, match="nested deeper than 64"):
                json_body(body)
        else:
            json_body(body)
