"""Writers, verification by re-reading, determinism, and the outcome of a run."""

from __future__ import annotations

import csv
import io

import orjson
import pyarrow.parquet as pq
import pytest

from core import storage
from core.errors import DomainError
from marketplace import conf as marketplace_conf
from marketplace.engine import estimate_cost, generate
from marketplace.engine.rows import plan_for
from marketplace.engine.verification import read_batches, verify_file
from tests.marketplace_engine.conftest import SCHEMA_OF_EVERY_TYPE, field, request_for, written_rows

FORMATS = ["json", "csv", "parquet"]


@pytest.mark.parametrize("file_format", FORMATS)
def test_every_format_reads_back_to_the_same_rows(file_format, tmp_path):
    request = request_for(SCHEMA_OF_EVERY_TYPE, 2500, format=file_format, verification=True)
    table, outcome = written_rows(request, tmp_path)
    assert outcome.rows == 2500 and table.num_rows == 2500
    assert outcome.verification.passed and outcome.verification.full and outcome.verification.rows == 2500
    assert table.column_names == [definition["name"] for definition in SCHEMA_OF_EVERY_TYPE]
    assert outcome.preview == [
        {
            key: (value.isoformat().replace("+00:00", "Z") if hasattr(value, "isoformat") else value)
            for key, value in row.items()
        }
        for row in table.slice(0, len(outcome.preview)).to_pylist()
    ]
    outcome.discard()


def test_json_is_json_lines_with_keys_in_schema_order(tmp_path):
    outcome = generate(request_for([field("a", "integer"), field("b", "string", required=True)], 50, format="json"))
    lines = outcome.path.read_bytes().splitlines()
    assert len(lines) == 50
    assert all(list(orjson.loads(line)) == ["a", "b"] for line in lines)
    outcome.discard()


def test_csv_has_a_header_and_keeps_nulls_apart_from_empty_strings(tmp_path):
    schema = [field("s", "string", pattern="a?", required=True), field("n", "integer")]
    outcome = generate(request_for(schema, 400, format="csv", verification=True))
    text = outcome.path.read_text()
    assert text.splitlines()[0] == '"s","n"'
    rows = list(csv.reader(io.StringIO(text)))[1:]
    assert {row[0] for row in rows} == {"", "a"} and outcome.verification.passed
    outcome.discard()


def test_parquet_has_one_row_group_per_chunk(tmp_path, monkeypatch):
    from marketplace.engine import rows as engine_rows

    monkeypatch.setattr(engine_rows, "CHUNK_ROWS", 1000)
    outcome = generate(request_for([field("a", "integer")], 3500, format="parquet"))
    assert pq.ParquetFile(outcome.path).num_row_groups == 4
    outcome.discard()


@pytest.mark.parametrize("file_format", FORMATS)
def test_the_same_seed_writes_the_same_bytes(file_format):
    first = generate(request_for(SCHEMA_OF_EVERY_TYPE, 1500, format=file_format, seed=42))
    second = generate(request_for(SCHEMA_OF_EVERY_TYPE, 1500, format=file_format, seed=42))
    other = generate(request_for(SCHEMA_OF_EVERY_TYPE, 1500, format=file_format, seed=43))
    cid = storage.cid_for_bytes(first.path.read_bytes())
    assert cid == storage.cid_for_bytes(second.path.read_bytes())
    assert cid != storage.cid_for_bytes(other.path.read_bytes())
    for outcome in (first, second, other):
        outcome.discard()


def test_a_parquet_file_read_as_a_stored_dataset_is_held_to_the_decoded_byte_cap_not_the_engines_own(monkeypatch):
    # Given a decoded-size cap of 1 KB, far below what 2,000 generated rows decode to
    monkeypatch.setattr(marketplace_conf, "MAX_DATASET_DECODED_BYTES", 1_000)
    # When a Parquet file is generated (and verified by re-reading it)
    request = request_for([field("n", "integer"), field("s", "string", required=True)], 2000, format="parquet")
    outcome = generate(request)
    # Then the engine's own file is bounded by the generation caps and passes its verification
    assert outcome.verification.passed and outcome.verification.rows == 2000
    # but read back as a stored dataset file (as training reads one), it is refused past the cap
    with pytest.raises(DomainError) as refused:
        list(read_batches(outcome.path, plan_for(request).schema, "parquet"))
    assert refused.value.code == "VALIDATION_ERROR" and refused.value.status == 400
    assert refused.value.details == {"file": ["at most 1000 bytes decoded"]}
    outcome.discard()


def _verify(outcome, request):
    plan = plan_for(request)
    return verify_file(
        outcome.path, fields=request.fields, schema=plan.schema, file_format=request.format, expected_rows=request.rows
    )


def test_verification_catches_a_value_edited_to_break_a_constraint():
    request = request_for([field("n", "integer", min=1, max=9, required=True)], 100, format="csv")
    outcome = generate(request)
    lines = outcome.path.read_text().splitlines()
    lines[5] = "42"
    outcome.path.write_text("\n".join(lines) + "\n")
    report = _verify(outcome, request)
    assert report.violations == 1 and report.by_field == {"n": 1}
    outcome.discard()


def test_verification_catches_a_repeated_unique_value():
    request = request_for([field("u", "uuid", unique=True, required=True)], 100, format="json")
    outcome = generate(request)
    lines = outcome.path.read_bytes().splitlines()
    lines[7] = lines[3]
    outcome.path.write_bytes(b"\n".join(lines) + b"\n")
    report = _verify(outcome, request)
    assert report.by_field == {"u": 1}
    outcome.discard()


def test_verification_catches_corrupted_parquet_bytes():
    request = request_for([field("n", "integer", required=True), field("s", "text")], 3000, format="parquet")
    outcome = generate(request)
    data = bytearray(outcome.path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 64] = b"\xff" * 64
    outcome.path.write_bytes(bytes(data))
    report = _verify(outcome, request)
    assert not report.passed
    outcome.discard()


def test_verification_catches_a_truncated_file():
    request = request_for([field("n", "integer", required=True)], 500, format="json")
    outcome = generate(request)
    outcome.path.write_bytes(b"\n".join(outcome.path.read_bytes().splitlines()[:400]) + b"\n")
    report = _verify(outcome, request)
    assert report.violations == 1 and "expected 500" in report.problems[0]
    outcome.discard()


def test_a_run_whose_file_fails_verification_leaves_no_file(monkeypatch, tmp_path):
    import marketplace.engine as engine_package
    from marketplace.engine.verification import VerificationReport

    failed = VerificationReport(rows=10)
    failed.record("1 value(s) of 'n' break its constraints", 1, "n")
    monkeypatch.setattr(engine_package, "verify_file", lambda *args, **kwargs: failed)
    with pytest.raises(DomainError) as raised:
        generate(request_for([field("n", "integer")], 10), directory=tmp_path)
    assert raised.value.code == "GENERATION_FAILED" and raised.value.details["violations"] == 1
    assert list(tmp_path.iterdir()) == []


def test_outcome_reports_tokens_size_and_cost():
    request = request_for([field("s", "string", min=8, max=8, required=True)], 1000, quality="high")
    outcome = generate(request)
    assert outcome.tokens == 2000  # 8 characters per row, 4 per token
    assert outcome.size_bytes == outcome.path.stat().st_size
    assert outcome.cost == estimate_cost(1000, 1, "high") == 0.002
    outcome.discard()


def test_zero_rows_write_a_readable_empty_file():
    outcome = generate(request_for([field("n", "integer")], 0, format="parquet"))
    assert outcome.rows == 0 and pq.read_table(outcome.path).num_rows == 0
    outcome.discard()
