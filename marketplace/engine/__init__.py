"""The synthetic-data engine: a dataset schema in, a verified file of rows out.

Public entry points (everything else in the package is how they work):

- ``generate(request, ...)`` writes the request's rows to a temporary file in its format, a chunk
  at a time, re-reads and verifies the file, and returns a ``GenerationOutcome`` (the path, row
  count, size, token estimate, preview rows, cost, verification report). A file that fails
  verification is deleted and ``VERIFICATION_FAILED`` raised; nothing half-written is returned.
- ``preview(schema, rows, ...)`` generates up to ``PREVIEW_MAX_ROWS`` rows in memory, for
  ``POST /generation/preview`` and for the templates' preview data.
- ``estimate_cost(rows, fields, quality)`` is the price of a generation.

docs/marketplace-engine.md explains every choice (null share, defaults, pattern dialect, quality
levels, augmentation, file layouts, cost, tokens).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from marketplace.engine.errors import UNGENERATABLE_SCHEMA, VERIFICATION_FAILED
from marketplace.engine.rows import batches, plan_for
from marketplace.engine.spec import FieldSpec, GenerationRequest, seed_for
from marketplace.engine.verification import VerificationReport, verify_file
from marketplace.engine.writers import writer_for

PREVIEW_MAX_ROWS = 50
PREVIEW_KEEP_ROWS = 50
# USD per million generated values (rows x fields), by quality.
COST_PER_MILLION_VALUES = {"fast": 0.5, "balanced": 1.0, "high": 2.0}
CHARACTERS_PER_TOKEN = 4
FILE_SUFFIXES = {"json": ".jsonl", "csv": ".csv", "parquet": ".parquet"}

__all__ = [
    "PREVIEW_MAX_ROWS",
    "UNGENERATABLE_SCHEMA",
    "VERIFICATION_FAILED",
    "FieldSpec",
    "GenerationOutcome",
    "GenerationRequest",
    "PreviewResult",
    "estimate_cost",
    "generate",
    "preview",
    "seed_for",
    "template_preview",
]


def estimate_cost(rows: int, fields: int, quality: str = "balanced") -> float:
    """The price in USD of generating ``rows`` rows of ``fields`` fields at ``quality``."""
    rate = COST_PER_MILLION_VALUES.get(quality, COST_PER_MILLION_VALUES["balanced"])
    return round(rows * fields * rate / 1_000_000, 6)


def _json_safe(value):
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def records(batch: pa.RecordBatch | pa.Table, limit: int | None = None) -> list[dict]:
    """Rows as JSON-ready dicts (dates and datetimes as ISO text), as previews show them."""
    if limit is not None:
        batch = batch.slice(0, limit)
    return [{key: _json_safe(value) for key, value in row.items()} for row in batch.to_pylist()]


def _characters(batch: pa.RecordBatch) -> int:
    total = 0
    for column in batch.columns:
        if pa.types.is_timestamp(column.type):
            total += 20 * (len(column) - column.null_count)
            continue
        text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        total += pc.sum(pc.utf8_length(text)).as_py() or 0
    return total


@dataclass
class GenerationOutcome:
    path: Path
    rows: int
    size_bytes: int
    tokens: int
    preview: list[dict]
    generation_time: float
    cost: float
    verification: VerificationReport
    augmentation_steps: list[str] = field(default_factory=list)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()


def generate(
    request: GenerationRequest,
    *,
    directory: str | os.PathLike | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> GenerationOutcome:
    """Write, re-read and verify the request's rows; see the module docstring.

    ``on_progress(done, total)`` is called after each chunk written and each chunk read back for
    verification (the caller throttles): ``total`` is twice the rows, writing covers the first
    half and verification the second, so progress moves through the whole run.
    """
    started = time.monotonic()
    plan = plan_for(request)
    handle, name = tempfile.mkstemp(
        prefix="generation-", suffix=FILE_SUFFIXES[request.format] + ".partial", dir=directory
    )
    path = Path(name)
    try:
        characters = 0
        preview_rows: list[dict] = []
        written = 0
        with os.fdopen(handle, "wb") as sink:
            writer = writer_for(request.format, sink, plan.schema, plan.dictionary_columns)
            for batch in batches(plan):
                writer.write(batch)
                if len(preview_rows) < PREVIEW_KEEP_ROWS:
                    preview_rows += records(batch, PREVIEW_KEEP_ROWS - len(preview_rows))
                characters += _characters(batch)
                written += batch.num_rows
                if on_progress is not None:
                    on_progress(written, 2 * request.rows)
            if written == 0:
                writer.write(pa.RecordBatch.from_pylist([], schema=plan.schema))
            writer.close()
            sink.flush()
            os.fsync(sink.fileno())
        report = verify_file(
            path,
            fields=request.fields,
            schema=plan.schema,
            file_format=request.format,
            expected_rows=request.rows,
            full=request.verify_every_row,
            on_progress=None
            if on_progress is None
            else lambda checked: on_progress(request.rows + checked, 2 * request.rows),
        )
        if not report.passed:
            raise VERIFICATION_FAILED(
                f"verification found {report.violations} violation(s): {'; '.join(report.problems[:3])}",
                details=report.as_dict(),
            )
        return GenerationOutcome(
            path=path,
            rows=written,
            size_bytes=path.stat().st_size,
            tokens=math.ceil(characters / CHARACTERS_PER_TOKEN),
            preview=preview_rows,
            generation_time=round(time.monotonic() - started, 3),
            cost=estimate_cost(request.rows, len(request.fields), request.quality),
            verification=report,
            augmentation_steps=request.augmentation.steps,
        )
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        raise


@dataclass(frozen=True)
class PreviewResult:
    rows: list[dict]
    generation_time: float
    estimated_cost: float


def preview(schema: list[dict], rows: int, *, seed: int | None = None, quality: str = "balanced") -> PreviewResult:
    """Up to ``PREVIEW_MAX_ROWS`` rows of a (validated) schema, generated in memory.

    ``estimatedCost`` is the price of generating that many rows; a schema that cannot be generated
    for that many rows raises ``UNGENERATABLE_SCHEMA`` (400).
    """
    from marketplace.services.dataset_schema import schema_validate

    clean = schema_validate(schema)
    count = max(1, min(int(rows), PREVIEW_MAX_ROWS))
    started = time.monotonic()
    request = GenerationRequest(
        fields=tuple(FieldSpec.from_schema(item) for item in clean),
        rows=count,
        quality=quality if quality in COST_PER_MILLION_VALUES else "balanced",
        seed=seed if seed is not None else int.from_bytes(os.urandom(7), "big"),
    )
    generated = [records(batch) for batch in batches(plan_for(request))]
    return PreviewResult(
        rows=[row for chunk in generated for row in chunk],
        generation_time=round(time.monotonic() - started, 4),
        estimated_cost=estimate_cost(count, len(clean), request.quality),
    )


TEMPLATE_PREVIEW_ROWS = 5


def template_preview(template_id: str, schema: list[dict]) -> list[dict]:
    """A template's ``previewData``: rows the engine makes from its schema, seeded by its id."""
    return preview(schema, TEMPLATE_PREVIEW_ROWS, seed=seed_for(f"template:{template_id}"), quality="balanced").rows
