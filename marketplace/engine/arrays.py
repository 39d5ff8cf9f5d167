"""Building Arrow string arrays straight from numpy buffers (no Python object per value)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def strings_from_bytes(data: np.ndarray, lengths: np.ndarray) -> pa.Array:
    """A string array whose i-th value is the next ``lengths[i]`` bytes of ``data`` (valid UTF-8)."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.ascontiguousarray(data, dtype=np.uint8)
    return pa.Array.from_buffers(
        pa.large_string(), len(lengths), [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    ).cast(pa.string())


def strings_from_matrix(codes: np.ndarray, lengths: np.ndarray | None = None) -> pa.Array:
    """Rows of an ASCII byte matrix as strings, each cut to its length (the full width by default)."""
    rows, width = codes.shape
    if lengths is None:
        return strings_from_bytes(codes.reshape(-1), np.full(rows, width, dtype=np.int64))
    mask = np.arange(width)[None, :] < lengths[:, None]
    return strings_from_bytes(codes[mask], lengths)


def strings_from_codepoints(codepoints: np.ndarray) -> pa.Array:
    """Rows of a code point matrix (fixed width) as strings, whatever the characters."""
    rows, width = codepoints.shape
    if rows == 0:
        return pa.array([], pa.string())
    if codepoints.max(initial=0) < 128:
        return strings_from_matrix(codepoints.astype(np.uint8))
    unicode = np.ascontiguousarray(codepoints, dtype=np.uint32).view(f"<U{width}").reshape(rows)
    return pa.array(unicode, pa.string())


def constant(text: str, count: int) -> pa.Array:
    encoded = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    return strings_from_bytes(np.tile(encoded, count), np.full(count, len(encoded), dtype=np.int64))


def join(parts: list[pa.Array]) -> pa.Array:
    """Element-wise concatenation of string arrays of the same length."""
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "")


def vocabulary_bytes(values: pa.Array) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bytes, start, length) of each entry of a string array, for gathering words with numpy."""
    array = values.cast(pa.large_string())
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64, count=len(array) + 1)
    data = np.frombuffer(data_buffer, dtype=np.uint8, count=int(offsets[-1]))
    return data, offsets[:-1], np.diff(offsets)


def gather_words(values: pa.Array, indices: np.ndarray, separator: bytes = b" ") -> np.ndarray:
    """The bytes of ``values[indices]`` one after another, each followed by ``separator``."""
    data, starts, lengths = vocabulary_bytes(values)
    sep = np.frombuffer(separator, dtype=np.uint8)
    word_lengths = lengths[indices] + len(sep)
    total = int(word_lengths.sum())
    output_starts = np.zeros(len(indices), dtype=np.int64)
    np.cumsum(word_lengths[:-1], out=output_starts[1:])
    position_in_word = np.arange(total, dtype=np.int64) - np.repeat(output_starts, word_lengths)
    word_of_byte = np.repeat(np.arange(len(indices)), word_lengths)
    own_length = lengths[indices][word_of_byte]
    in_word = position_in_word < own_length
    out = np.empty(total, dtype=np.uint8)
    source = starts[indices][word_of_byte] + position_in_word
    out[in_word] = data[source[in_word]]
    if len(sep):
        out[~in_word] = sep[(position_in_word - own_length)[~in_word]]
    return out


def with_nulls(values: pa.Array, nulls: np.ndarray) -> pa.Array:
    """``values`` (without nulls) with the rows where ``nulls`` is True made null."""
    if not nulls.any():
        return values
    buffers = values.buffers()
    if values.offset != 0 or values.null_count or buffers[0] is not None:
        return pc.if_else(pa.array(nulls), pa.nulls(len(values), values.type), values)
    validity = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
    return pa.Array.from_buffers(values.type, len(values), [validity, *buffers[1:]], null_count=int(nulls.sum()))
