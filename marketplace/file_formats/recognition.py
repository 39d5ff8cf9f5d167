"""The formats a dataset file may be in, and how one is told from another by its bytes."""

from __future__ import annotations

PARQUET_MAGIC = b"PAR1"
CONTENT_TYPES = {"json": "application/json", "csv": "text/csv", "parquet": "application/vnd.apache.parquet"}
EXTENSIONS = {"json": "json", "csv": "csv", "parquet": "parquet"}


def is_parquet(data: bytes) -> bool:
    """Parquet's ``PAR1`` magic at both ends (and room for a footer between them)."""
    return len(data) >= 12 and data[:4] == PARQUET_MAGIC and data[-4:] == PARQUET_MAGIC


class OtherFormatError(Exception):
    """The bytes are not in the format tried (the next one is tried)."""
