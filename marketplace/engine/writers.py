"""Streaming writers: each chunk of rows goes to the file and is forgotten.

- ``json``: JSON Lines (one object per line, keys in schema order, ``null`` for nulls), built
  column-wise with Arrow string kernels. Dates are ``"YYYY-MM-DD"``, datetimes
  ``"YYYY-MM-DDTHH:MM:SSZ"`` (UTC), ``json`` fields hold the object's JSON text as a string.
- ``csv``: RFC 4180 with a header row, written by Arrow: text is always quoted, an empty unquoted
  cell is a null (so an empty string ``""`` and a null stay different), booleans are
  ``true``/``false``, dates and datetimes as in JSON.
- ``parquet``: one row group per chunk, zstd-compressed, dictionary-encoded only where a field
  has at most 65,536 distinct values, datetimes as ``timestamp[ms, UTC]``,
  dates as ``date32``.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from marketplace.engine import arrays

DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_CONTROL_CHARACTERS = r"[\x00-\x1f]"
_NEEDS_ESCAPE = r"[\x00-\x1f\"\\]"
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))


def iso_datetimes(column: pa.Array) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SSZ`` text of UTC timestamps (the engine writes whole seconds)."""
    return pc.strftime(column.cast(pa.timestamp("s", tz="UTC")), format=DATETIME_FORMAT)


def _datetimes_as_text(batch: pa.RecordBatch) -> pa.RecordBatch:
    columns, changed = [], False
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            column, changed = iso_datetimes(column), True
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names) if changed else batch


def _json_strings(column: pa.Array) -> pa.Array:
    count = len(column)
    if not pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPE)).as_py():
        # The usual case (vocabulary text): nothing to escape, only quotes to add.
        return arrays.join([arrays.constant('"', count), column, arrays.constant('"', count)])
    if pc.any(pc.match_substring_regex(column, _CONTROL_CHARACTERS)).as_py():
        # Rare (a pattern asked for control characters): let orjson escape them exactly.
        return pa.array([None if value is None else orjson.dumps(value).decode() for value in column.to_pylist()])
    escaped = column
    for raw, replacement in _ESCAPES:
        escaped = pc.replace_substring(escaped, raw, replacement)
    return arrays.join([arrays.constant('"', count), escaped, arrays.constant('"', count)])


def json_values(column: pa.Array) -> pa.Array:
    """Each value as JSON text (``null`` for nulls)."""
    kind = column.type
    if pa.types.is_boolean(kind):
        text = pc.if_else(column, "true", "false")
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        text = pc.cast(column, pa.string())
    elif pa.types.is_timestamp(kind):
        text = _json_strings(iso_datetimes(column))
    elif pa.types.is_date(kind):
        text = _json_strings(pc.cast(column, pa.string()))
    else:
        text = _json_strings(column)
    return pc.fill_null(text, "null")


def json_lines(batch: pa.RecordBatch) -> bytes:
    """The rows of ``batch`` as JSON Lines."""
    count = batch.num_rows
    if count == 0:
        return b""
    parts = []
    for position, name in enumerate(batch.schema.names):
        key = orjson.dumps(name).decode()
        parts.append(arrays.constant(("{" if position == 0 else ", ") + key + ": ", count))
        parts.append(json_values(batch.column(position)))
    parts.append(arrays.constant("}\n", count))
    lines = arrays.join(parts).cast(pa.large_string())
    _, offsets_buffer, data_buffer = lines.buffers()
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64, count=lines.offset + count + 1)[lines.offset :]
    return data_buffer.to_pybytes()[offsets[0] : offsets[-1]]


class Writer:
    def __init__(self, sink: BinaryIO, schema: pa.Schema, dictionary_columns=()) -> None:
        self.sink, self.schema = sink, schema

    def write(self, batch: pa.RecordBatch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file (footers); the sink itself stays open."""


class JsonLinesWriter(Writer):
    def write(self, batch):
        self.sink.write(json_lines(batch))


class CsvWriter(Writer):
    def __init__(self, sink, schema, dictionary_columns=()):
        super().__init__(sink, schema)
        text_schema = pa.schema(
            [pa.field(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in schema]
        )
        self._writer = pa_csv.CSVWriter(sink, text_schema, write_options=pa_csv.WriteOptions(include_header=True))
        self._schema = text_schema

    def write(self, batch):
        self._writer.write_batch(_datetimes_as_text(batch).cast(self._schema))

    def close(self):
        self._writer.close()


class ParquetWriter(Writer):
    def __init__(self, sink, schema, dictionary_columns=()):
        super().__init__(sink, schema)
        # Dictionary encoding pays only for columns with few distinct values (enums, flags, small
        # ranges); trying it on identifiers costs time and saves nothing.
        self._writer = pq.ParquetWriter(
            sink, schema, compression="zstd", use_dictionary=list(dictionary_columns) or False
        )

    def write(self, batch):
        self._writer.write_batch(batch, row_group_size=max(1, batch.num_rows))

    def close(self):
        self._writer.close()


WRITERS = {"json": JsonLinesWriter, "csv": CsvWriter, "parquet": ParquetWriter}


def writer_for(file_format: str, sink: BinaryIO, schema: pa.Schema, dictionary_columns=()) -> Writer:
    """The writer of ``file_format``; ``dictionary_columns`` get dictionary encoding in Parquet."""
    return WRITERS[file_format](sink, schema, dictionary_columns)
