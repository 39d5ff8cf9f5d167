"""A dataset's values as JSON holds them: finite numbers only, durations as seconds, and every
other Arrow value as its JSON-ready Python form (previews, JSON files, nested cells in CSV)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from core import errors
from marketplace.file_formats.limits import leaves

_SECONDS_PER_UNIT = {"s": 1, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def finite_check(columns: list[pa.Array], names: list[str]) -> None:
    """A dataset's numbers are JSON numbers: no NaN or infinity (a JSON file holding one is not JSON)."""
    for name, column in zip(names, columns, strict=True):
        for leaf in leaves(column):
            if pa.types.is_floating(leaf.type) and pc.all(pc.is_finite(leaf)).as_py() is False:
                raise errors.VALIDATION(
                    f"The column {name!r} holds NaN or an infinite number, which JSON cannot hold",
                    details={"file": [f"column {name!r}: NaN or infinite number"]},
                )


def durations_as_seconds(table: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """Duration columns as numbers of seconds (the preview is JSON; Arrow's nanoseconds have no timedelta)."""
    for index, column in enumerate(table.schema):
        if pa.types.is_duration(column.type):
            seconds = pc.multiply(table.column(index).cast(pa.int64()), _SECONDS_PER_UNIT[column.type.unit])
            table = table.set_column(index, column.name, seconds)
    return table


def json_safe(value: Any) -> Any:
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dict):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_safe(item) for item in value]
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if value is None or isinstance(value, (str, int, float)):
        return value
    return str(value)  # another Arrow type's Python value (an interval, ...): its text


def table_records(table: pa.Table, limit: int | None = None) -> list[dict]:
    if limit is not None:
        table = table.slice(0, limit)
    return [json_safe(row) for row in durations_as_seconds(table).to_pylist()]
