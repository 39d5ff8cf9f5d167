"""Augmentation: each generated row is followed by ``variations`` noisy copies of itself.

With ``noise`` = s, a copy differs from its original like this (and only like this):

- integer / float: plus a normal draw with standard deviation s x (the field's range), rounded
  back to the field's grid and clipped into its bounds;
- date / datetime: shifted by a normal draw of s x (the date span), clipped into the span;
- boolean: flipped with probability s;
- enum (and any field with an enum): replaced by another allowed value with probability s;
- string, text and name without a pattern: with probability s two neighbouring characters are
  swapped (a typo that keeps the length);
- unique fields are never copied: every row gets its own value;
- e-mail, URL, phone, address, UUID, JSON and pattern fields are copied unchanged, so a copy
  keeps every constraint of its field; nulls stay null.

Noise 0 gives exact copies (apart from unique fields).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from marketplace.engine import fields
from marketplace.engine.spec import FieldSpec

TYPO_TYPES = frozenset({"string", "text", "name"})


def _numpy(values: pa.Array) -> np.ndarray:
    return values.to_numpy(zero_copy_only=False)


def _swap_neighbours(values: pa.Array, rows: np.ndarray, rng: np.random.Generator) -> pa.Array:
    array = values.cast(pa.large_string())
    validity, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64, count=array.offset + len(array) + 1)[array.offset :]
    data = np.frombuffer(data_buffer, dtype=np.uint8, count=int(offsets[-1])).copy() if data_buffer else None
    if data is None:
        return values
    lengths = np.diff(offsets)
    rows = rows[lengths[rows] >= 2]
    if len(rows):
        position = offsets[rows] + rng.integers(0, lengths[rows] - 1)
        ascii_pair = (data[position] < 128) & (data[position + 1] < 128)
        position = position[ascii_pair]
        data[position], data[position + 1] = data[position + 1].copy(), data[position].copy()
    rebuilt = pa.Array.from_buffers(
        pa.large_string(), len(array), [validity, pa.py_buffer(offsets.copy()), pa.py_buffer(data)], offset=0
    )
    return rebuilt.cast(pa.string())


def add_noise(
    spec: FieldSpec,
    generator: fields.Generator,
    values: pa.Array,
    variant: np.ndarray,
    noise: float,
    rng: np.random.Generator,
) -> pa.Array:
    """``values`` with noise applied to the rows where ``variant`` is True (see the module docstring)."""
    if noise <= 0 or not variant.any():
        return values
    count = len(values)
    if isinstance(generator, fields.Choice):
        replace = variant & (rng.random(count) < noise)
        replacement = generator.sample(rng, count)
        return pc.if_else(pa.array(replace), replacement, values) if replace.any() else values
    if isinstance(generator, (fields.Integer, fields.Float)):
        low, high = generator.low, generator.high
        spread = noise * (high - low)
        base = _numpy(values.fill_null(0)).astype(np.float64)
        moved = np.clip(base + rng.normal(0.0, spread, count), low, high)
        if isinstance(generator, fields.Integer):
            moved = np.clip(np.rint(moved), generator.low, generator.high).astype(np.int64)
        else:
            moved = np.clip(np.round(moved, generator.decimals), low, high)
        return pc.if_else(pa.array(variant), pa.array(moved, values.type), values)
    if isinstance(generator, (fields.Day, fields.Moment)):
        unit = 1 if isinstance(generator, fields.Day) else 1000
        as_integers = values.cast(pa.int32()) if unit == 1 else values.cast(pa.int64())
        raw = _numpy(as_integers.fill_null(0)).astype(np.int64)
        spread = noise * (generator.last - generator.first)
        shifted = np.clip(
            raw // unit + np.rint(rng.normal(0.0, spread, count)).astype(np.int64), generator.first, generator.last
        )
        moved = pa.array(shifted * unit, pa.int64())
        moved = moved.cast(pa.int32()).cast(pa.date32()) if unit == 1 else moved.cast(values.type)
        return pc.if_else(pa.array(variant), moved, values)
    if isinstance(generator, fields.Boolean):
        flip = variant & (rng.random(count) < noise)
        return pc.if_else(pa.array(flip), pc.invert(values), values) if flip.any() else values
    if spec.type in TYPO_TYPES and spec.pattern is None:
        rows = np.flatnonzero(variant & (rng.random(count) < noise))
        return _swap_neighbours(values, rows, rng) if len(rows) else values
    return values
