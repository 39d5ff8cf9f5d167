"""What an uploaded dataset file holds (``dataset_file_summary``): its format, recognised by its
bytes, its row count, its inferred schema and its first rows, all read within the caps."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from core import errors
from marketplace.errors import UNSUPPORTED_FILE
from marketplace.file_formats.conversion import read_table
from marketplace.file_formats.csv_format import csv_rows_check
from marketplace.file_formats.json_format import json_table
from marketplace.file_formats.limits import TableLimits
from marketplace.file_formats.parquet_format import parquet_batches
from marketplace.file_formats.recognition import OtherFormatError, is_parquet
from marketplace.file_formats.values import durations_as_seconds, finite_check, json_safe, table_records


@dataclass(frozen=True)
class TableSummary:
    """What an uploaded dataset file holds: its format, row count, inferred schema and first rows."""

    format: str
    rows: int
    schema: list[dict]
    preview: list[dict]


def _parquet_summary(data: bytes, limits: TableLimits, preview_rows: int) -> TableSummary:
    """Parquet's metadata (rows, columns, what the values decode to at most) is checked before any
    data is read; then the row groups are streamed a small batch at a time for the null counts and
    the preview."""
    try:
        arrow_schema, batches = parquet_batches(data, limits)
        rows, has_nulls, preview = 0, [False] * len(arrow_schema), []
        for batch in batches:
            rows += batch.num_rows
            limits.check_rows(rows)
            has_nulls = [seen or column.null_count > 0 for seen, column in zip(has_nulls, batch.columns, strict=True)]
            finite_check(batch.columns, batch.schema.names)
            if len(preview) < preview_rows:
                preview.extend(durations_as_seconds(batch.slice(0, preview_rows - len(preview))).to_pylist())
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise UNSUPPORTED_FILE(f"The parquet file cannot be read as a table: {type(exc).__name__}") from None
    return TableSummary(
        format="parquet",
        rows=rows,
        schema=_schema_fields(arrow_schema, has_nulls),
        preview=[json_safe(row) for row in preview],
    )


def _table_summary(file_format: str, table: pa.Table, preview_rows: int) -> TableSummary:
    has_nulls = [column.null_count > 0 for column in table.columns]
    finite_check([column.combine_chunks() for column in table.columns], table.column_names)
    return TableSummary(
        format=file_format,
        rows=table.num_rows,
        schema=_schema_fields(table.schema, has_nulls),
        preview=table_records(table, preview_rows),
    )


def dataset_file_summary(data: bytes, *, limits: TableLimits, preview_rows: int) -> TableSummary:
    """Recognise a dataset file by its bytes and read it within ``limits``.

    Parquet (``PAR1`` at both ends), else JSON records (an array of objects, or JSON Lines), else
    CSV; anything else is UNSUPPORTED_FILE. The caps are checked while the file is read, before
    anything is stored: Parquet from its metadata first, JSON record by record, CSV from its
    header's width first and then row by row. Past a cap: VALIDATION_ERROR naming it.
    """
    if is_parquet(data):
        return _parquet_summary(data, limits, preview_rows)
    try:
        table = json_table(data, limits)
    except OtherFormatError:
        pass
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise UNSUPPORTED_FILE(f"The json file cannot be read as a table: {type(exc).__name__}") from None
    else:
        if table.num_columns == 0:
            raise errors.VALIDATION("The dataset has no columns", details={"file": ["no columns"]})
        return _table_summary("json", table, preview_rows)
    try:
        csv_rows_check(data, limits)
    except OtherFormatError:
        raise UNSUPPORTED_FILE("The file is not CSV (UTF-8 with a header row), JSON records or Parquet") from None
    return _table_summary("csv", read_table(data, "csv"), preview_rows)


def _field_type(arrow_type: pa.DataType) -> str:
    if pa.types.is_boolean(arrow_type):
        return "boolean"
    if pa.types.is_integer(arrow_type):
        return "integer"
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "float"
    if pa.types.is_timestamp(arrow_type):
        return "datetime"
    if pa.types.is_date(arrow_type):
        return "date"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "string"
    return "json"


def _schema_fields(arrow_schema: pa.Schema, has_nulls: list[bool]) -> list[dict]:
    """Schema fields (see ``engine.schema.FIELD_TYPES``) for the columns; a column with nulls is not required."""
    return [
        {
            "id": f"col_{index}",
            "name": column.name,
            "type": _field_type(column.type),
            "description": "",
            "constraints": {"required": not nulls},
        }
        for index, (column, nulls) in enumerate(zip(arrow_schema, has_nulls, strict=True))
    ]
