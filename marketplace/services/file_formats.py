"""Dataset files: recognise CSV, JSON and Parquet by their bytes, read them, convert between them.

The format of an uploaded file is decided by its content, never its name or declared type:
Parquet by its ``PAR1`` magic at both ends, JSON by parsing (an array of objects, or one object
per line), CSV by parsing UTF-8 text with a header and rows of the same width. Anything else is
refused. Tables go through pyarrow, which also infers the column types.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from marketplace.errors import UNSUPPORTED_FILE

PARQUET_MAGIC = b"PAR1"
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
EXTENSIONS = {"json": "json", "csv": "csv", "parquet": "parquet"}


def _looks_like_csv(data: bytes) -> bool:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if "\x00" in text:
        return False
    rows = list(csv.reader(io.StringIO(text)))
    rows = [row for row in rows if row]
    if len(rows) < 2 or len(rows[0]) < 1:
        return False
    width = len(rows[0])
    header = rows[0]
    return all(cell.strip() for cell in header) and all(len(row) == width for row in rows[1:])


def _json_records(data: bytes) -> list[dict] | None:
    """The records of a JSON array of objects or of JSON Lines; None when the bytes are neither."""
    stripped = data.strip()
    if not stripped or stripped[:1] not in (b"[", b"{"):
        return None
    try:
        parsed = orjson.loads(stripped)
    except orjson.JSONDecodeError:
        parsed = None
        try:
            parsed = [orjson.loads(line) for line in stripped.splitlines() if line.strip()]
        except orjson.JSONDecodeError:
            return None
    if isinstance(parsed, dict):
        parsed = [parsed]
    if isinstance(parsed, list) and parsed and all(isinstance(item, dict) for item in parsed):
        return parsed
    return None


def sniff_dataset_format(data: bytes) -> str:
    """``parquet``, ``json`` or ``csv`` from the bytes alone; UNSUPPORTED_FILE otherwise."""
    if len(data) >= 12 and data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
        return "parquet"
    if _json_records(data) is not None:
        return "json"
    if _looks_like_csv(data):
        return "csv"
    raise UNSUPPORTED_FILE("The file is not CSV (UTF-8 with a header row), JSON records or Parquet")


def read_table(data: bytes, file_format: str) -> pa.Table:
    try:
        if file_format == "parquet":
            return pq.read_table(io.BytesIO(data))
        if file_format == "csv":
            return pa_csv.read_csv(io.BytesIO(data))
        if file_format == "json":
            records = _json_records(data)
            if records is None:
                raise UNSUPPORTED_FILE("The JSON is not a list of records")
            return pa.Table.from_pylist(records)
    except (pa.ArrowException, ValueError, TypeError) as exc:
        raise UNSUPPORTED_FILE(f"The {file_format} file cannot be read as a table: {type(exc).__name__}")
    raise ValueError(f"unknown format {file_format!r}")


def _json_safe(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    return value


def table_records(table: pa.Table, limit: int | None = None) -> list[dict]:
    if limit is not None:
        table = table.slice(0, limit)
    return [_json_safe(row) for row in table.to_pylist()]


def write_table(table: pa.Table, file_format: str) -> bytes:
    if file_format == "parquet":
        buffer = io.BytesIO()
        pq.write_table(table, buffer)
        return buffer.getvalue()
    if file_format == "csv":
        buffer = io.BytesIO()
        pa_csv.write_csv(table, buffer)
        return buffer.getvalue()
    if file_format == "json":
        return orjson.dumps(table_records(table))
    raise ValueError(f"unknown format {file_format!r}")


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


def infer_schema(table: pa.Table) -> list[dict]:
    """Schema fields (see dataset_schema.FIELD_TYPES) for the table's columns, nulls => not required."""
    fields = []
    for index, column in enumerate(table.schema):
        values = table.column(index)
        fields.append(
            {
                "id": f"col_{index}",
                "name": column.name,
                "type": _field_type(column.type),
                "description": "",
                "constraints": {"required": values.null_count == 0},
            }
        )
    return fields


def human_size(size_bytes: int) -> str:
    """``1.5 MB`` style sizes (powers of 1024), as the spec's ``size`` string."""
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size_bytes} B"
