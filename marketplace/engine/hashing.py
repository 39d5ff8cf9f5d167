"""64-bit fingerprints of column values, and a disk-backed detector of repeated values.

Fingerprints are computed on whole Arrow arrays at once (numpy over the string buffers), never one
Python call per value. Two different strings may share a fingerprint (about one chance in 10^7 for
a million distinct values); every user of a fingerprint treats a match only as a *candidate*
repeat and compares the values themselves before calling it one.

``RepeatDetector`` keeps fingerprints in 64 bucket files rather than in memory, so checking that
a column of a million (or a billion) rows has no repeated value needs about 1/64 of the
fingerprints in memory at a time.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_BASE = np.uint64(0x100000001B3)
_BUCKET_BITS = 6


def _splitmix(values: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


_POWERS_CACHE: list[np.ndarray] = [np.ones(1, dtype=np.uint64)]


def _powers(length: int) -> np.ndarray:
    cached = _POWERS_CACHE[0]
    if len(cached) < length:
        size = max(length, 2 * len(cached))
        powers = np.empty(size, dtype=np.uint64)
        powers[0] = 1
        with np.errstate(over="ignore"):
            filled = 1
            while filled < size:
                step = min(filled, size - filled)
                powers[filled : filled + step] = powers[:step] * (_BASE ** np.uint64(filled))
                filled += step
        _POWERS_CACHE[0] = cached = powers
    return cached[:length]


def string_fingerprints(array: pa.Array) -> np.ndarray:
    """A uint64 fingerprint per string (nulls get 0; look at the validity separately)."""
    array = array.cast(pa.large_string()) if array.type != pa.large_string() else array
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    count = len(array)
    if count == 0:
        return np.zeros(0, dtype=np.uint64)
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64, count=array.offset + count + 1)[array.offset :]
    start, end = offsets[0], offsets[-1]
    data = np.frombuffer(data_buffer, dtype=np.uint8, count=end)[start:] if end > start else np.zeros(0, np.uint8)
    starts = offsets[:-1] - start
    lengths = np.diff(offsets)
    result = lengths.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    if len(data):
        row_of_byte = np.repeat(np.arange(count), lengths)
        position = np.arange(len(data), dtype=np.int64) - starts[row_of_byte]
        with np.errstate(over="ignore"):
            terms = (data.astype(np.uint64) + np.uint64(1)) * _powers(int(lengths.max()))[position]
        sums = np.zeros(count, dtype=np.uint64)
        non_empty = lengths > 0
        # Segments of consecutive non-empty strings tile the byte array, so reduceat sums each one.
        sums[non_empty] = np.add.reduceat(terms, starts[non_empty])
        with np.errstate(over="ignore"):
            result = result ^ sums
    return _splitmix(result)


def fingerprints(array: pa.Array) -> np.ndarray:
    """A uint64 fingerprint per value of any column the engine writes (exact for numbers and dates)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return string_fingerprints(array)
    if pa.types.is_boolean(kind):
        return _splitmix(np.asarray(array.fill_null(False).to_numpy(zero_copy_only=False), dtype=np.uint64))
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        array = array.cast(pa.int64())
    if pa.types.is_floating(kind):
        values = np.asarray(array.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.float64)
        return _splitmix(values.view(np.uint64))
    values = np.asarray(pc.fill_null(array, 0).to_numpy(zero_copy_only=False), dtype=np.int64)
    return _splitmix(values.view(np.uint64))


class RepeatDetector:
    """Collects fingerprints in bucket files, then names those seen more than once."""

    def __init__(self) -> None:
        self._directory = Path(tempfile.mkdtemp(prefix="engine-unique-"))
        self._handles: dict[int, object] = {}

    def add(self, values: np.ndarray) -> None:
        if not len(values):
            return
        buckets = (values >> np.uint64(64 - _BUCKET_BITS)).astype(np.int64)
        order = np.argsort(buckets, kind="stable")
        buckets, values = buckets[order], values[order]
        edges = np.flatnonzero(np.diff(buckets)) + 1
        for chunk_buckets, chunk_values in zip(np.split(buckets, edges), np.split(values, edges), strict=True):
            bucket = int(chunk_buckets[0])
            handle = self._handles.get(bucket)
            if handle is None:
                handle = self._handles[bucket] = (self._directory / f"{bucket}.u64").open("ab")
            chunk_values.tofile(handle)

    def repeated(self) -> np.ndarray:
        """Fingerprints that were added more than once."""
        found = []
        for handle in self._handles.values():
            handle.flush()
        for path in sorted(self._directory.glob("*.u64")):
            values = np.sort(np.fromfile(path, dtype=np.uint64))
            if len(values) > 1:
                found.append(np.unique(values[1:][values[1:] == values[:-1]]))
        return np.concatenate(found) if found else np.zeros(0, dtype=np.uint64)

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> RepeatDetector:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
