"""Dataset files: recognise CSV, JSON and Parquet by their bytes, read them, convert between them.

The format of an uploaded file is decided by its content, never its name or declared type:
Parquet by its ``PAR1`` magic at both ends, JSON by parsing (an array of objects, or one object
per line), CSV by parsing UTF-8 text with a header and rows of the same width. Anything else is
refused. Tables go through pyarrow, which also infers the column types. An upload is held to the
row and column caps while it is read (``dataset_file_summary``), never after.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from core import errors
from marketplace import conf
from marketplace.errors import UNSUPPORTED_FILE

PARQUET_MAGIC = b"PAR1"
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
EXTENSIONS = {"json": "json", "csv": "csv", "parquet": "parquet"}


def _finite(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number out of range: {text[:40]}")
    return value


def _not_json(constant: str):
    raise ValueError(f"{constant} is not JSON")


# JSON as orjson reads JSON Lines: no NaN or Infinity, no number that overflows to one (stored in
# the preview, such a value was refused by the database's JSON check: a 500).
_JSON_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_not_json)
# A record is an object of values; nothing a dataset holds nests this deep. Deeper files are refused
# before they are parsed: a file of 100,000 nested brackets (200 KB) killed the serving process.
MAX_JSON_FILE_DEPTH = 64
_OPENING = np.zeros(256, dtype=np.int8)
_OPENING[[ord("["), ord("{")]] = 1
_OPENING[[ord("]"), ord("}")]] = -1


def _nests_deeper_than(data: bytes, depth: int) -> bool:
    """Whether the brackets of ``data`` nest deeper than ``depth`` (brackets inside strings count
    too, so this can only overstate a depth: it refuses nothing that nests within ``depth``)."""
    steps = _OPENING[np.frombuffer(data, dtype=np.uint8)]
    return bool(len(steps)) and int(np.cumsum(steps, dtype=np.int64).max()) > depth


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
RECORDS_PER_CHUNK = 10_000
PARQUET_BATCH_ROWS = 1_024
# Values made from the previous value's prefix: a few bytes can stand for any length, found out only
# by decoding them (Spark's Parquet v2 writer uses it for strings; pyarrow's only when asked).
_EXPANDING_ENCODINGS = {"DELTA_BYTE_ARRAY"}
_TEXTS = {"STRING", "NONE", "JSON", "ENUM", "BSON"}  # byte-array columns that read as (binary) text
_SECONDS_PER_UNIT = {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


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


@dataclass(frozen=True)
class TableSummary:
    """What an uploaded dataset file holds: its format, row count, inferred schema and first rows."""

    format: str
    rows: int
    schema: list[dict]
    preview: list[dict]


class _OtherFormatError(Exception):
    """The bytes are not in the format tried (the next one is tried)."""


def _json_array_items(text: str) -> Iterator[Any]:
    """The items of a top-level JSON array, parsed one at a time."""
    index = _JSON_SPACE.match(text, text.index("[") + 1).end()
    if text.startswith("]", index):
        index += 1
    else:
        while True:
            item, index = _JSON_DECODER.raw_decode(text, index)
            yield item
            index = _JSON_SPACE.match(text, index).end()
            if text.startswith(",", index):
                index = _JSON_SPACE.match(text, index + 1).end()
            elif text.startswith("]", index):
                index += 1
                break
            else:
                raise ValueError("expected , or ]")
    if _JSON_SPACE.match(text, index).end() != len(text):
        raise ValueError("text after the array")


def _json_lines(data: bytes) -> Iterator[Any]:
    """One JSON value per non-empty line (a single object over several lines counts as one)."""
    try:
        for line in io.BytesIO(data):
            if line.strip():
                yield orjson.loads(line)
    except orjson.JSONDecodeError:
        document = orjson.loads(data)  # a pretty-printed object: one record, or not JSON at all
        if not isinstance(document, dict):
            raise
        yield document


def _json_records(data: bytes, limits: TableLimits | None) -> Iterator[dict]:
    """The records of a JSON array of objects or of JSON Lines, parsed one at a time, the caps
    checked as they come (``_OtherFormatError`` when the bytes are neither)."""
    stripped = data.strip()
    if stripped[:1] not in (b"[", b"{"):
        raise _OtherFormatError
    if _nests_deeper_than(stripped, MAX_JSON_FILE_DEPTH + 1):  # the array around the records is one more
        raise UNSUPPORTED_FILE(f"The JSON nests deeper than {MAX_JSON_FILE_DEPTH} levels")
    columns: dict[str, None] = {}
    rows = 0
    try:
        items = _json_array_items(stripped.decode("utf-8")) if stripped[:1] == b"[" else _json_lines(stripped)
        for item in items:
            if not isinstance(item, dict):
                raise _OtherFormatError
            rows += 1
            if limits is not None:
                limits.check_rows(rows)
                for key in item:
                    columns.setdefault(key, None)
                limits.check_columns(len(columns))
            yield item
    except (ValueError, RecursionError):  # orjson's, json's and UTF-8's decode errors are ValueErrors
        raise _OtherFormatError from None
    if rows == 0:
        raise _OtherFormatError


def _records_table(records: list[dict]) -> pa.Table:
    # pa.array infers the struct from every record's keys (Table.from_pylist would use the first's only).
    return pa.Table.from_struct_array(pa.array(records))


def _json_table(data: bytes, limits: TableLimits | None) -> pa.Table:
    """JSON records as a table, built a chunk of records at a time: every key of every record is a
    column, and a column's type is widened across chunks (integers, then a decimal: float)."""
    chunks, chunk = [], []
    for record in _json_records(data, limits):
        chunk.append(record)
        if len(chunk) == RECORDS_PER_CHUNK:
            chunks.append(_records_table(chunk))
            chunk = []
    if chunk:
        chunks.append(_records_table(chunk))
    return pa.concat_tables(chunks, promote_options="permissive") if len(chunks) > 1 else chunks[0]


def _csv_rows_check(data: bytes, limits: TableLimits) -> None:
    """UTF-8 text with a header of non-empty names and rows of its width (``_OtherFormatError``
    otherwise), within the caps: the header's width is checked first, rows as they are read."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _OtherFormatError from None
    if "\x00" in text:
        raise _OtherFormatError
    try:
        rows = (row for row in csv.reader(io.StringIO(text)) if row)
        header = next(rows, None)
        if header is None or not all(cell.strip() for cell in header):
            raise _OtherFormatError
        limits.check_columns(len(header))
        count = 0
        for row in rows:
            if len(row) != len(header):
                raise _OtherFormatError
            count += 1
            limits.check_rows(count)
    except csv.Error:
        raise _OtherFormatError from None
    if count == 0:
        raise _OtherFormatError


def _too_large() -> errors.DomainError:
    cap = conf.MAX_DATASET_DECODED_BYTES
    return errors.VALIDATION(
        f"The parquet file decodes to more than {cap} bytes", details={"file": [f"at most {cap} bytes decoded"]}
    )


def _leaves(array: pa.Array) -> Iterator[pa.Array]:
    """The arrays of values inside ``array``, nested lists, maps and structs opened."""
    if pa.types.is_map(array.type):
        yield from _leaves(array.keys)
        yield from _leaves(array.items)
    elif pa.types.is_list(array.type) or pa.types.is_large_list(array.type) or pa.types.is_fixed_size_list(array.type):
        yield from _leaves(array.flatten())
    elif pa.types.is_struct(array.type):
        for child in array.flatten():
            yield from _leaves(child)
    else:
        yield array


def _decoded_bytes(array: pa.Array) -> int:
    """The bytes ``array`` takes once decoded, its dictionaries counted as the values they stand for
    (without decoding them: a few kilobytes of dictionary page can stand for gigabytes)."""
    size = 8 * len(array)  # offsets and validity, roughly
    for leaf in _leaves(array):
        if pa.types.is_dictionary(leaf.type):
            lengths = pc.take(pc.binary_length(leaf.dictionary), leaf.indices)
            size += (pc.sum(lengths).as_py() or 0) + leaf.indices.nbytes
        else:
            size += leaf.nbytes
    return size


def _finite_check(columns: list[pa.Array], names: list[str]) -> None:
    """A dataset's numbers are JSON numbers: no NaN or infinity (a JSON file holding one is not JSON)."""
    for name, column in zip(names, columns, strict=True):
        for leaf in _leaves(column):
            if pa.types.is_floating(leaf.type) and pc.all(pc.is_finite(leaf)).as_py() is False:
                raise errors.VALIDATION(
                    f"The column {name!r} holds NaN or an infinite number, which JSON cannot hold",
                    details={"file": [f"column {name!r}: NaN or infinite number"]},
                )


def _durations_as_seconds(table: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """Duration columns as numbers of seconds (the preview is JSON; Arrow's nanoseconds have no timedelta)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_duration(column.type):
            seconds = pc.multiply(table.column(index).cast(pa.int64()), _SECONDS_PER_UNIT[column.type.unit])
            table = table.set_column(index, column.name, seconds)
    return table


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
    if declared > conf.MAX_DATASET_DECODED_BYTES:
        raise _too_large()
    leaves = [schema.column(index) for index in range(len(schema))]
    texts = [leaf.path for leaf in leaves if leaf.physical_type == "BYTE_ARRAY" and leaf.logical_type.type in _TEXTS]
    by_dictionary = _parquet_file(source, read_dictionary=texts)

    def batches() -> Iterator[pa.RecordBatch]:
        decoded = 0
        for batch in by_dictionary.iter_batches(batch_size=PARQUET_BATCH_ROWS, row_groups=groups, use_threads=False):
            decoded += sum(_decoded_bytes(column) for column in batch.columns)
            if decoded > conf.MAX_DATASET_DECODED_BYTES:
                raise _too_large()
            yield batch

    return parquet.schema_arrow, batches()


def _parquet_summary(data: bytes, limits: TableLimits, preview_rows: int) -> TableSummary:
    """Parquet's metadata (rows, columns, uncompressed size) is checked before any data is read; then
    the row groups are streamed a small batch at a time for the null counts and the preview."""
    try:
        arrow_schema, batches = parquet_batches(data, limits)
        rows, has_nulls, preview = 0, [False] * len(arrow_schema), []
        for batch in batches:
            rows += batch.num_rows
            limits.check_rows(rows)
            has_nulls = [seen or column.null_count > 0 for seen, column in zip(has_nulls, batch.columns, strict=True)]
            _finite_check(batch.columns, batch.schema.names)
            if len(preview) < preview_rows:
                preview.extend(_durations_as_seconds(batch.slice(0, preview_rows - len(preview))).to_pylist())
    except (pa.ArrowException, ValueError, OSError) as exc:
        raise UNSUPPORTED_FILE(f"The parquet file cannot be read as a table: {type(exc).__name__}") from None
    return TableSummary(
        format="parquet",
        rows=rows,
        schema=_schema_fields(arrow_schema, has_nulls),
        preview=[_json_safe(row) for row in preview],
    )


def _table_summary(file_format: str, table: pa.Table, preview_rows: int) -> TableSummary:
    has_nulls = [column.null_count > 0 for column in table.columns]
    _finite_check([column.combine_chunks() for column in table.columns], table.column_names)
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
    if len(data) >= 12 and data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC:
        return _parquet_summary(data, limits, preview_rows)
    try:
        table = _json_table(data, limits)
    except _OtherFormatError:
        pass
    except (pa.ArrowException, TypeError, ValueError, OverflowError) as exc:
        raise UNSUPPORTED_FILE(f"The json file cannot be read as a table: {type(exc).__name__}") from None
    else:
        if table.num_columns == 0:
            raise errors.VALIDATION("The dataset has no columns", details={"file": ["no columns"]})
        return _table_summary("json", table, preview_rows)
    try:
        _csv_rows_check(data, limits)
    except _OtherFormatError:
        raise UNSUPPORTED_FILE("The file is not CSV (UTF-8 with a header row), JSON records or Parquet") from None
    return _table_summary("csv", read_table(data, "csv"), preview_rows)


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
                return _json_table(data, None)
            except _OtherFormatError:
                raise UNSUPPORTED_FILE("The JSON is not a list of records") from None
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
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)  # another Arrow type's Python value (an interval, ...): its text


def table_records(table: pa.Table, limit: int | None = None) -> list[dict]:
    if limit is not None:
        table = table.slice(0, limit)
    return [_json_safe(row) for row in _durations_as_seconds(table).to_pylist()]


def _nested_as_json_text(table: pa.Table) -> pa.Table:
    """CSV has no nested values: each struct, list or map cell becomes its JSON text (null stays empty)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_nested(column.type):
            texts = [
                None if cell is None else orjson.dumps(_json_safe(cell)).decode()
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


def human_size(size_bytes: int) -> str:
    """``1.5 MB`` style sizes (powers of 1024), as the spec's ``size`` string."""
    value = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size_bytes} B"
