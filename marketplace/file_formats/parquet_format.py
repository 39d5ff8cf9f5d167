"""Parquet dataset files, read a batch at a time within ``MAX_DATASET_DECODED_BYTES``: the one
reader of a Parquet dataset file, whoever reads it (an upload, a conversion, a training)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from marketplace import conf
from marketplace.errors import UNSUPPORTED_FILE
from marketplace.file_formats.limits import (
    TableLimits,
    decoded_bytes,
    decoded_size_check,
    leaf_types,
    list_pages_check,
    values_decoded_bound,
)
from marketplace.file_formats.parquet_pages import chunk_pages, chunk_sizes_trusted, file_buffer

PARQUET_BATCH_ROWS = 1_024
# Values made from the previous value's prefix: a few bytes can stand for any length, found out only
# by decoding them (Spark's Parquet v2 writer uses it for strings; pyarrow's only when asked).
_EXPANDING_ENCODINGS = {"DELTA_BYTE_ARRAY"}
_TEXTS = {"STRING", "NONE", "JSON", "ENUM", "BSON"}  # byte-array columns that read as (binary) text


def _parquet_file(source: bytes | Path, **options) -> pq.ParquetFile:
    return pq.ParquetFile(source if isinstance(source, Path) else io.BytesIO(source), **options)


def parquet_batches(
    source: bytes | Path, limits: TableLimits | None = None, *, max_rows: int | None = None
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    """The file's schema and its batches of ``PARQUET_BATCH_ROWS``, decoded within
    ``MAX_DATASET_DECODED_BYTES``: first bounded before any value is decoded (``_row_groups_to_read``:
    the values each column chunk's pages declare, at their width), then counted as read, each text
    column read as a dictionary and counted as the values it stands for (so a batch comes with its
    text columns as dictionaries: cast it to the schema for their values).

    ``max_rows``: only the row groups holding the first ``max_rows`` rows are checked and read (a
    reader that needs no more never decodes the rest). Past the cap: VALIDATION_ERROR; a column
    whose size only decoding tells: UNSUPPORTED_FILE; anything unreadable: Arrow's error.
    """
    parquet = _parquet_file(source)
    if limits is not None:
        limits.check_columns(len(parquet.schema_arrow))
        limits.check_rows(parquet.metadata.num_rows)
    groups = _row_groups_to_read(source, parquet, max_rows)
    leaves = [parquet.schema.column(index) for index in range(len(parquet.schema))]
    texts = [leaf.path for leaf in leaves if leaf.physical_type == "BYTE_ARRAY" and leaf.logical_type.type in _TEXTS]
    by_dictionary = _parquet_file(source, read_dictionary=texts)

    def batches() -> Iterator[pa.RecordBatch]:
        decoded = 0
        for batch in by_dictionary.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=groups, use_threads=False):
            decoded += sum(decoded_bytes(column) for column in batch.columns)
            decoded_size_check(decoded)
            yield batch

    return parquet.schema_arrow, batches()


def _row_groups_to_read(source: bytes | Path, parquet: pq.ParquetFile, max_rows: int | None) -> list[int]:
    """The row groups holding the first ``max_rows`` rows (all of them when None), held to the cap
    before a value is decoded.

    Each column chunk counts its values at their width, never less than its uncompressed size. A
    list's values are not bounded by the rows: a few hundred bytes of run-length encoded file can
    stand for gigabytes in one row, one batch, before the batches' count runs. So a chunk of a list
    column counts the values its pages declare too (the footer's ``num_values`` can be edited; the
    pages are what the reader decodes); any other column decodes a batch's rows' worth at a time.
    Those pages are held to ``MAX_DATASET_PARQUET_LIST_PAGES`` in all, the count stopping there.
    """
    metadata = parquet.metadata
    value_types = [value_type for field in parquet.schema_arrow for value_type in leaf_types(field.type)]
    in_list = [parquet.schema.column(index).max_repetition_level > 0 for index in range(len(parquet.schema))]
    if any(in_list) and not chunk_sizes_trusted(metadata):
        raise UNSUPPORTED_FILE(
            "The parquet file has a list column and was written by parquet-mr before 1.2.9, which is not accepted"
        )
    groups, declared, rows, list_pages = [], 0, 0, 0
    with file_buffer(source) as buffer:
        for index in range(metadata.num_row_groups):
            if max_rows is not None and rows >= max_rows:
                break
            group = metadata.row_group(index)
            chunks = [group.column(column) for column in range(group.num_columns)]
            if any(_EXPANDING_ENCODINGS.intersection(chunk.encodings) for chunk in chunks):
                raise UNSUPPORTED_FILE("The parquet file uses the DELTA_BYTE_ARRAY encoding, which is not accepted")
            bound = 0
            for chunk, value_type, repeated in zip(chunks, value_types, in_list, strict=True):
                values = chunk.num_values
                if repeated:
                    counted = chunk_pages(buffer, chunk, max_pages=conf.MAX_DATASET_PARQUET_LIST_PAGES - list_pages)
                    list_pages += counted.pages
                    list_pages_check(list_pages)
                    values = max(values, counted.values)
                bound += values_decoded_bound(
                    value_type, values=values, stored=chunk.total_uncompressed_size, in_list=repeated
                )
            declared += max(group.total_byte_size, bound)
            decoded_size_check(declared)
            groups.append(index)
            rows += group.num_rows
    return groups
