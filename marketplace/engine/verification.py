"""Verification: read the written file back and check every row against the schema.

The file is re-read in chunks with the reader of its format (never the rows kept in memory while
writing), typed by the schema, so a value that cannot be parsed as its field's type is caught too.
A full check applies ``checks.invalid_values`` to every column of every chunk and finds repeated
values of unique fields with ``hashing.RepeatDetector`` (fingerprints spilled to disk, candidates
confirmed on the values themselves in a second pass). A light check (``full=False``) only
confirms that the file reads back whole: the expected columns, in order, and the expected row count.

The result counts violations: a row breaking two constraints counts twice; an unreadable file, a
missing or misplaced column or a wrong row count counts one each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from marketplace.engine.checks import invalid_values
from marketplace.engine.hashing import RepeatDetector, fingerprints
from marketplace.engine.spec import FieldSpec
from marketplace.file_formats import parquet_batches

READ_BLOCK_BYTES = 256 * 1024
MAX_PROBLEMS = 20


@dataclass
class VerificationReport:
    rows: int = 0
    violations: int = 0
    full: bool = True
    by_field: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.violations == 0

    def record(self, problem: str, count: int = 1, field_name: str | None = None) -> None:
        self.violations += count
        if field_name is not None:
            self.by_field[field_name] = self.by_field.get(field_name, 0) + count
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)

    def as_dict(self) -> dict:
        return {
            "checkedRows": self.rows,
            "violations": self.violations,
            "full": self.full,
            "violationsByField": self.by_field,
            "problems": self.problems,
        }


def _read_schema(schema: pa.Schema, file_format: str) -> pa.Schema:
    if file_format != "json":
        return schema
    # The JSON reader parses timestamps itself but not dates: read dates as text, cast after.
    return pa.schema([pa.field(f.name, pa.string() if pa.types.is_date(f.type) else f.type) for f in schema])


def read_batches(
    path: Path, schema: pa.Schema, file_format: str, *, max_rows: int | None = None, decoded_cap: bool = True
) -> Iterator[pa.RecordBatch]:
    """The file's rows typed by ``schema``, a chunk at a time (Arrow errors on unparsable content),
    until ``max_rows`` rows are read (all of them when None).

    A Parquet file is held to the dataset files' decoded-size cap (``parquet_batches``: a stored
    file may predate the upload's check), its rows past ``max_rows`` never decoded; past the cap,
    VALIDATION_ERROR. ``decoded_cap=False`` only for the engine's own file just written, whose row
    groups the generation caps bound (a generated dataset may be larger than the cap).
    """
    read = 0
    for batch in _format_batches(path, schema, file_format, max_rows=max_rows, decoded_cap=decoded_cap):
        yield batch
        read += batch.num_rows
        if max_rows is not None and read >= max_rows:
            return


def _format_batches(
    path: Path, schema: pa.Schema, file_format: str, *, max_rows: int | None, decoded_cap: bool
) -> Iterator[pa.RecordBatch]:
    if file_format == "parquet" and decoded_cap:
        file_schema, batches = parquet_batches(path, max_rows=max_rows)
        for batch in batches:
            yield batch.cast(file_schema)  # its text columns come as dictionaries, counted undecoded
        return
    if file_format == "parquet":
        # Row group by row group: iter_batches reads ahead and would hold several groups at once.
        parquet = pq.ParquetFile(path)
        for group in range(parquet.num_row_groups):
            yield from parquet.read_row_group(group, use_threads=False).to_batches()
        return
    if file_format == "csv":
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(block_size=READ_BLOCK_BYTES, use_threads=False),
            parse_options=pa_csv.ParseOptions(newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(
                column_types={f.name: f.type for f in schema},
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
        yield from reader
        return
    reader = pa_json.open_json(
        path,
        read_options=pa_json.ReadOptions(block_size=READ_BLOCK_BYTES, use_threads=False),
        parse_options=pa_json.ParseOptions(
            explicit_schema=_read_schema(schema, "json"), unexpected_field_behavior="error"
        ),
    )
    for batch in reader:
        columns = [
            column.cast(target.type) if column.type != target.type else column
            for column, target in zip(batch.columns, schema, strict=True)
        ]
        yield pa.RecordBatch.from_arrays(columns, schema=schema)


def _batch_check(batch: pa.RecordBatch, fields: tuple[FieldSpec, ...], report: VerificationReport, detectors) -> None:
    """Record the batch's constraint violations and feed its values of unique fields to their detectors."""
    for spec in fields:
        column = batch.column(spec.name)
        bad = int(invalid_values(spec, column).sum())
        if bad:
            report.record(f"{bad} value(s) of '{spec.name}' break its constraints", bad, spec.name)
        if spec.name in detectors:
            present = np.asarray(column.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            detectors[spec.name].add(fingerprints(column)[present])


def _read_back(
    path: Path,
    schema: pa.Schema,
    file_format: str,
    report: VerificationReport,
    check: Callable[[pa.RecordBatch], None] | None,
    on_progress: Callable[[int], None] | None,
) -> bool:
    """Read every batch back, counting rows and checking each (``check``); False when the file is unreadable."""
    try:
        for batch in read_batches(path, schema, file_format, decoded_cap=False):
            if batch.schema.names != schema.names:
                report.record(f"columns are {batch.schema.names}, expected {schema.names}")
                return False
            report.rows += batch.num_rows
            if on_progress is not None:
                on_progress(report.rows)
            if check is not None:
                check(batch)
    except (pa.ArrowException, OSError, ValueError) as exc:
        report.record(f"the file cannot be read back as {file_format}: {exc}")
        return False
    return True


def verify_file(
    path: Path,
    *,
    fields: tuple[FieldSpec, ...],
    schema: pa.Schema,
    file_format: str,
    expected_rows: int,
    full: bool = True,
    on_progress: Callable[[int], None] | None = None,
) -> VerificationReport:
    """Re-read ``path`` and report every violation (see the module docstring).

    ``on_progress(rows_checked)`` is called after each chunk read back (the caller throttles).
    """
    report = VerificationReport(full=full)
    unique_fields = [spec for spec in fields if spec.unique] if full else []
    detectors = {spec.name: RepeatDetector() for spec in unique_fields}
    check = (lambda batch: _batch_check(batch, fields, report, detectors)) if full else None
    try:
        if not _read_back(path, schema, file_format, report, check, on_progress):
            return report
        if report.rows != expected_rows:
            report.record(f"the file holds {report.rows} rows, expected {expected_rows}")
        for spec in unique_fields:
            candidates = detectors[spec.name].repeated()
            if len(candidates):
                repeats = _confirmed_repeats(path, schema, file_format, spec, candidates)
                if repeats:
                    report.record(f"{repeats} value(s) of unique field '{spec.name}' repeat", repeats, spec.name)
    finally:
        for detector in detectors.values():
            detector.close()
    return report


def _confirmed_repeats(path: Path, schema: pa.Schema, file_format: str, spec: FieldSpec, candidates) -> int:
    """Rows whose value equals an earlier row's, among the rows whose fingerprint was repeated."""
    seen: set = set()
    repeats = 0
    candidate_set = pa.array(candidates, pa.uint64())
    for batch in read_batches(path, schema, file_format, decoded_cap=False):
        column = batch.column(spec.name)
        prints = pa.array(fingerprints(column))
        mask = pc.and_(pc.is_in(prints, value_set=candidate_set), column.is_valid())
        for value in column.filter(mask).to_pylist():
            if value in seen:
                repeats += 1
            seen.add(value)
    return repeats
