"""Parquet dataset files, read a batch at a time within ``MAX_DATASET_DECODED_BYTES``: the one
reader of a Parquet dataset file, whoever reads it (an upload, a conversion, a training)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from marketplace.errors import UNSUPPORTED_FILE
from marketplace.file_formats.limits import TableLimits, decoded_bytes, decoded_size_check

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
    ``MAX_DATASET_DECODED_BYTES``: first by the metadata (the row groups' uncompressed sizes), then
    as read, each text column read as a dictionary and counted as the values it stands for (so a
    batch comes with its text columns as dictionaries: cast it to the schema for their values).

    ``max_rows``: only the row groups holding the first ``max_rows`` rows are checked and read (a
    reader that needs no more never decodes the rest). Past the cap: VALIDATION_ERROR; a column
    whose size only decoding tells: UNSUPPORTED_FILE; anything unreadable: Arrow's error.
    """
    parquet = _parquet_file(source)
    metadata, schema = parquet.metadata, parquet.schema
    if limits is not None:
        limits.check_columns(len(parquet.schema_arrow))
        limits.check_rows(metadata.num_rows)
    groups, declared, rows = [], 0, 0
    for index in range(metadata.num_row_groups):
        if max_rows is not None and rows >= max_rows:
            break
        group = metadata.row_group(index)
        chunks = [group.column(column) for column in range(group.num_columns)]
        if any(_EXPANDING_ENCODINGS.intersection(chunk.encodings) for chunk in chunks):
            raise UNSUPPORTED_FILE("The parquet file uses the DELTA_BYTE_ARRAY encoding, which is not accepted")
        declared += max(group.total_byte_size, sum(chunk.total_uncompressed_size for chunk in chunks))
        groups.append(index)
        rows += group.num_rows
    decoded_size_check(declared)
    leaves = [schema.column(index) for index in range(len(schema))]
    texts = [leaf.path for leaf in leaves if leaf.physical_type == "BYTE_ARRAY" and leaf.logical_type.type in _TEXTS]
    by_dictionary = _parquet_file(source, read_dictionary=texts)

    def batches() -> Iterator[pa.RecordBatch]:
        decoded = 0
        for batch in by_dictionary.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=groups, use_threads=False):
            decoded += sum(decoded_bytes(column) for column in batch.columns)
            decoded_size_check(decoded)
            yield batch

    return parquet.schema_arrow, batches()
