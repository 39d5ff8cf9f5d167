"""The caps a dataset file is held to while it is read: rows and columns (``TableLimits``), and for
Parquet the bytes its values decode to (``MAX_DATASET_DECODED_BYTES``), one rule for every reader.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from core import errors
from marketplace import conf


@dataclass(frozen=True)
class TableLimits:
    """The most rows and columns a dataset file may have (the caps generated datasets and schemas have)."""

    max_rows: int
    max_columns: int

    def check_columns(self, count: int) -> None:
        if count > self.max_columns:
            raise errors.VALIDATION(
                f"The dataset has {count} columns; at most {self.max_columns} are allowed",
                details={"file": [f"at most {self.max_columns} columns"]},
            )

    def check_rows(self, count: int) -> None:
        if count > self.max_rows:
            raise errors.VALIDATION(
                f"The dataset has more than {self.max_rows} rows",
                details={"file": [f"at most {self.max_rows} rows"]},
            )


def decoded_size_check(size: int) -> None:
    """VALIDATION_ERROR when ``size`` bytes (declared by the metadata, or decoded so far) are past
    ``MAX_DATASET_DECODED_BYTES``."""
    cap = conf.MAX_DATASET_DECODED_BYTES
    if size > cap:
        raise errors.VALIDATION(
            f"The parquet file decodes to more than {cap} bytes", details={"file": [f"at most {cap} bytes decoded"]}
        )


def leaves(array: pa.Array) -> Iterator[pa.Array]:
    """The arrays of values inside ``array``, nested lists, maps and structs opened."""
    if pa.types.is_map(array.type):
        yield from leaves(array.keys)
        yield from leaves(array.items)
    elif pa.types.is_list(array.type) or pa.types.is_large_list(array.type) or pa.types.is_fixed_size_list(array.type):
        yield from leaves(array.flatten())
    elif pa.types.is_struct(array.type):
        for child in array.flatten():
            yield from leaves(child)
    else:
        yield array


def decoded_bytes(array: pa.Array) -> int:
    """The bytes ``array`` takes once decoded, its dictionaries counted as the values they stand for
    (without decoding them: a few kilobytes of dictionary page can stand for gigabytes)."""
    size = 8 * len(array)  # offsets and validity, roughly
    for leaf in leaves(array):
        if pa.types.is_dictionary(leaf.type):
            lengths = pc.take(pc.binary_length(leaf.dictionary), leaf.indices)
            size += (pc.sum(lengths).as_py() or 0) + leaf.indices.nbytes
        else:
            size += leaf.nbytes
    return size
