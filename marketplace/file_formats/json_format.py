"""JSON dataset files: an array of objects, or one object per line (JSON Lines), read a record at a
time within the caps; nesting is bounded before anything is parsed."""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pyarrow as pa

from marketplace.errors import UNSUPPORTED_FILE
from marketplace.file_formats.limits import TableLimits
from marketplace.file_formats.recognition import OtherFormatError


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


def json_records(data: bytes, limits: TableLimits | None) -> Iterator[dict]:
    """The records of a JSON array of objects or of JSON Lines, parsed one at a time, the caps
    checked as they come (``OtherFormatError`` when the bytes are neither)."""
    stripped = data.strip()
    if stripped[:1] not in (b"[", b"{"):
        raise OtherFormatError
    if _nests_deeper_than(stripped, MAX_JSON_FILE_DEPTH + 1):  # the array around the records is one more
        raise UNSUPPORTED_FILE(f"The JSON nests deeper than {MAX_JSON_FILE_DEPTH} levels")
    columns: dict[str, None] = {}
    rows = 0
    try:
        items = _json_array_items(stripped.decode("utf-8")) if stripped[:1] == b"[" else _json_lines(stripped)
        for item in items:
            if not isinstance(item, dict):
                raise OtherFormatError
            rows += 1
            if limits is not None:
                limits.check_rows(rows)
                for key in item:
                    columns.setdefault(key, None)
                limits.check_columns(len(columns))
            yield item
    except (ValueError, RecursionError):  # orjson's, json's and UTF-8's decode errors are ValueErrors
        raise OtherFormatError from None
    if rows == 0:
        raise OtherFormatError


def _records_table(records: list[dict]) -> pa.Table:
    # pa.array infers the struct from every record's keys (Table.from_pylist would use the first's only).
    return pa.Table.from_struct_array(pa.array(records))


def json_table(data: bytes, limits: TableLimits | None) -> pa.Table:
    """JSON records as a table, built a chunk of records at a time: every key of every record is a
    column, and a column's type is widened across chunks (integers, then a decimal: float)."""
    chunks, chunk = [], []
    for record in json_records(data, limits):
        chunk.append(record)
        if len(chunk) == RECORDS_PER_CHUNK:
            chunks.append(_records_table(chunk))
            chunk = []
    if chunk:
        chunks.append(_records_table(chunk))
    return pa.concat_tables(chunks, promote_options="permissive") if len(chunks) > 1 else chunks[0]
