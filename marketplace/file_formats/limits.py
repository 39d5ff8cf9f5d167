"""The caps a dataset file is held to while it is read: rows and columns (``TableLimits``), and for
Parquet the bytes its values decode to (``MAX_DATASET_DECODED_BYTES``), one rule for every reader:
bounded before a value is decoded (``values_decoded_bound``), then counted as decoded
(``decoded_bytes``).
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


def list_pages_check(pages: int) -> None:
    """VALIDATION_ERROR when the list columns of a Parquet file have more than
    ``MAX_DATASET_PARQUET_LIST_PAGES`` pages (counted before a value is decoded)."""
    cap = conf.MAX_DATASET_PARQUET_LIST_PAGES
    if pages > cap:
        raise errors.VALIDATION(
            f"The parquet file's list columns have more than {cap} pages",
            details={"file": [f"at most {cap} pages in list columns"]},
        )


_LISTS = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
)
# A value in a list decodes with its repetition and definition levels (two 16-bit numbers).
_LEVEL_BYTES = 4


def leaf_types(data_type: pa.DataType) -> Iterator[pa.DataType]:
    """The types of the values inside ``data_type``, nested lists, maps and structs opened (an extension
    type by its storage), in the order Parquet stores them as columns."""
    if isinstance(data_type, pa.ExtensionType):
        yield from leaf_types(data_type.storage_type)
    elif pa.types.is_map(data_type):
        yield from leaf_types(data_type.key_type)
        yield from leaf_types(data_type.item_type)
    elif any(is_kind(data_type) for is_kind in _LISTS):
        yield from leaf_types(data_type.value_type)
    elif pa.types.is_struct(data_type):
        for field in data_type:
            yield from leaf_types(field.type)
    else:
        yield data_type


def values_decoded_bound(value_type: pa.DataType, *, values: int, stored: int, in_list: bool) -> int:
    """The most bytes ``values`` values of ``value_type`` take once decoded, before one is: those of a
    Parquet column chunk, counted from its pages, ``stored`` being its uncompressed size.

    A fixed-width value takes its width; text and binary an offset, a dictionary index or a view each,
    plus the bytes the chunk holds (its dictionary's among them); a value in a list its two levels
    besides. Never less than ``stored`` (what the metadata alone declares).
    """
    levels = _LEVEL_BYTES * 8 if in_list else 0  # bits, as widths are: a boolean takes one
    if pa.types.is_dictionary(value_type):
        return values * (levels + value_type.index_type.bit_width) // 8 + stored
    try:
        width = value_type.bit_width
    except ValueError:  # text, binary (and null): no fixed width
        view = pa.types.is_string_view(value_type) or pa.types.is_binary_view(value_type)
        large = pa.types.is_large_string(value_type) or pa.types.is_large_binary(value_type)
        return values * (levels + (128 if view else 64 if large else 32)) // 8 + stored
    return max(stored, values * (levels + width) // 8)


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
    """The bytes ``array`` takes once decoded: every buffer Arrow holds for it (validity, offsets,
    values, its children's), its dictionaries counted as the values they stand for rather than as
    themselves (without decoding them: a few kilobytes of dictionary page can stand for gigabytes)."""
    size = array.nbytes  # a dictionary counted whole, once: replaced below by what it stands for
    for leaf in leaves(array):
        if pa.types.is_dictionary(leaf.type):
            lengths = pc.take(pc.binary_length(leaf.dictionary), leaf.indices)
            size += (pc.sum(lengths).as_py() or 0) - leaf.dictionary.nbytes
    return size
