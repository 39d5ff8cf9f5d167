"""A stored dataset file read whole as a table, and a table written as a file of any format (a
download in another format than the stored one)."""

from __future__ import annotations

import io

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from marketplace.errors import UNSUPPORTED_FILE
from marketplace.file_formats.json_format import json_table
from marketplace.file_formats.parquet_format import parquet_batches
from marketplace.file_formats.recognition import OtherFormatError
from marketplace.file_formats.values import json_safe, table_records


def read_table(data: bytes, file_format: str) -> pa.Table:
    """A stored dataset file as one table; a Parquet file within ``MAX_DATASET_DECODED_BYTES``
    (a file stored before that cap is held to it too)."""
    try:
        if file_format == "parquet":
            arrow_schema, batches = parquet_batches(data)
            read = list(batches)
            return pa.Table.from_batches(read).cast(arrow_schema) if read else arrow_schema.empty_table()
        if file_format == "csv":
            return pa_csv.read_csv(io.BytesIO(data))
        if file_format == "json":
            try:
                return json_table(data, None)
            except OtherFormatError:
                raise UNSUPPORTED_FILE("The JSON is not a list of records") from None
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise UNSUPPORTED_FILE(f"The {file_format} file cannot be read as a table: {type(exc).__name__}")
    raise ValueError(f"unknown format {file_format!r}")


def _nested_as_json_text(table: pa.Table) -> pa.Table:
    """CSV has no nested values: each struct, list or map cell becomes its JSON text (null stays empty)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_nested(column.type):
            texts = [
                None if cell is None else orjson.dumps(json_safe(cell)).decode()
                for cell in table.column(index).to_pylist()
            ]
            table = table.set_column(index, column.name, pa.array(texts, pa.string()))
    return table


def write_table(table: pa.Table, file_format: str) -> bytes:
    """The table as a file of ``file_format``; UNSUPPORTED_FILE when its values cannot be written so
    (a Parquet struct with no fields, ...), naming the format."""
    try:
        if file_format == "parquet":
            buffer = io.BytesIO()
            pq.write_table(table, buffer)
            return buffer.getvalue()
        if file_format == "csv":
            buffer = io.BytesIO()
            pa_csv.write_csv(_nested_as_json_text(table), buffer)
            return buffer.getvalue()
        if file_format == "json":
            return orjson.dumps(table_records(table))
    except (pa.ArrowException, orjson.JSONEncodeError) as exc:
        raise UNSUPPORTED_FILE(
            f"This dataset cannot be written as {file_format}: {exc}"[:500], details={"format": [file_format]}
        ) from None
    raise ValueError(f"unknown format {file_format!r}")
