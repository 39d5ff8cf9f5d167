"""Does a column satisfy its field's constraints? One vectorised check, used twice.

Generation uses it to redraw the rare values a generator cannot guarantee by construction (a
pattern with a word boundary, a name that must fit a length bound); verification uses it on every
row read back from the written file. The rules:

- a null is a violation when the field is ``required`` (and only then);
- ``min``/``max`` bound the value of numbers and the length (in characters) of text;
- ``pattern`` must match the whole value (RE2's ``fullmatch``, linear in the value's length, see
  ``linear_regex``); a field with a pattern is not also held to its type's format, the pattern is
  the format;
- ``enum`` lists the only values allowed (compared as text for text fields, as numbers for numbers);
- otherwise e-mail, URL, phone, UUID and JSON values must have their type's format (below).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import re2

from marketplace.engine.linear_regex import linear_pattern_compile
from marketplace.engine.spec import FieldSpec

# RE2 syntax (Arrow's regex engine) and Python's agree on these.
FORMATS = {
    "email": r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$",
    "url": r"^https?://[^\s/$.?#][^\s]*$",
    "phone": r"^\+?[0-9][0-9 ().-]{6,}$",
    "uuid": r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$",
}
ARROW_TYPES = {
    "integer": pa.int64(),
    "float": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("ms", tz="UTC"),
}


def arrow_type(field_type: str) -> pa.DataType:
    return ARROW_TYPES.get(field_type, pa.string())


def enum_values(spec: FieldSpec) -> pa.Array | None:
    """The enum as an array of the field's type (None when the field has no enum)."""
    if not spec.enum:
        return None
    kind = arrow_type(spec.type)
    if spec.type == "boolean":
        return pa.array([value.strip().lower() in ("true", "1", "yes") for value in spec.enum], pa.bool_())
    if spec.type == "date":
        return pa.array([dt.date.fromisoformat(value) for value in spec.enum], kind)
    if spec.type == "datetime":
        parsed = [dt.datetime.fromisoformat(value.replace("Z", "+00:00")) for value in spec.enum]
        return pa.array([value if value.tzinfo else value.replace(tzinfo=dt.UTC) for value in parsed], kind)
    if spec.type == "integer":
        return pa.array([int(value) for value in spec.enum], kind)
    if spec.type == "float":
        return pa.array([float(value) for value in spec.enum], kind)
    return pa.array(list(spec.enum), pa.string())


def _numpy(mask) -> np.ndarray:
    if isinstance(mask, pa.ChunkedArray):
        mask = mask.combine_chunks()
    return np.asarray(mask.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _json_object_invalid(values: pa.Array) -> np.ndarray:
    result = np.zeros(len(values), dtype=bool)
    for index, value in enumerate(values.to_pylist()):
        if value is None:
            continue
        try:
            result[index] = not isinstance(orjson.loads(value), dict)
        except orjson.JSONDecodeError:
            result[index] = True
    return result


def invalid_values(spec: FieldSpec, values: pa.Array, compiled_pattern: re2._Regexp | None = None) -> np.ndarray:
    """True where a row breaks a constraint of ``spec`` (nulls included when the field is required)."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    is_null = _numpy(values.is_null())
    invalid = is_null.copy() if spec.required else np.zeros(len(values), dtype=bool)
    present = ~is_null
    if not present.any():
        return invalid
    bad = np.zeros(len(values), dtype=bool)
    allowed = enum_values(spec)
    if allowed is not None:
        bad |= ~_numpy(pc.is_in(values, value_set=allowed))
    if spec.type in ("integer", "float"):
        if spec.minimum is not None:
            bad |= _numpy(pc.less(values, spec.minimum))
        if spec.maximum is not None:
            bad |= _numpy(pc.greater(values, spec.maximum))
    if spec.is_text:
        if spec.minimum is not None or spec.maximum is not None:
            lengths = pc.utf8_length(values)
            if spec.minimum is not None:
                bad |= _numpy(pc.less(lengths, int(spec.minimum)))
            if spec.maximum is not None:
                bad |= _numpy(pc.greater(lengths, int(spec.maximum)))
        if spec.pattern is not None:
            pattern = compiled_pattern or linear_pattern_compile(spec.pattern)
            fullmatch = pattern.fullmatch
            bad |= np.fromiter(
                (value is not None and fullmatch(value) is None for value in values.to_pylist()),
                dtype=bool,
                count=len(values),
            )
    if spec.pattern is None and allowed is None:
        if spec.type in FORMATS:
            bad |= ~_numpy(pc.match_substring_regex(values, FORMATS[spec.type]))
        elif spec.type == "json":
            bad |= _json_object_invalid(values)
    return invalid | (bad & present)
