"""Marketplace engine: rows per second written to Parquet for a 10-field schema at 1,000,000 rows, and peak memory.

The engine figure is one real ``generate()`` run (generation, streaming Parquet writes, and the
re-read every job does) in a fresh child process, whose peak RSS is also reported beside the peak
RSS of a 10,000-row run of the same schema (flat memory: the goal is that 1,000,000 rows need no
more than 10,000). The baseline is plain Faker producing the same ten fields, one Faker call per
value, in the same run: Faker is timed on ``FAKER_SAMPLE_ROWS`` rows and its rate extrapolated
(it would take too long at a million rows); it only generates, writing nothing, which favours it.

    .venv/bin/python bench/marketplace_engine.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROWS = 1_000_000
SMALL_ROWS = 10_000
FAKER_SAMPLE_ROWS = 5_000
BASE_DIR = Path(__file__).resolve().parent.parent
ENUM = ["free", "pro", "team", "enterprise"]
SCHEMA = [
    {"name": "id", "type": "uuid", "constraints": {"required": True, "unique": True}},
    {"name": "customer", "type": "name", "constraints": {"required": True}},
    {"name": "email", "type": "email", "constraints": {"required": True, "unique": True}},
    {"name": "age", "type": "integer", "constraints": {"min": 18, "max": 90}},
    {"name": "score", "type": "float", "constraints": {"min": 0, "max": 1}},
    {"name": "active", "type": "boolean", "constraints": {"required": True}},
    {"name": "signed_up_at", "type": "datetime", "constraints": {"required": True}},
    {"name": "plan", "type": "enum", "constraints": {"enum": ENUM, "required": True}},
    {"name": "phone", "type": "phone", "constraints": {}},
    {"name": "code", "type": "string", "constraints": {"pattern": r"^[A-Z]{3}-\d{4}$", "required": True}},
]


def _measure_engine(rows: int, file_format: str = "parquet") -> dict:
    """In this (fresh) process: one generate() to a file; seconds and peak RSS."""
    import resource

    from marketplace.engine import GenerationRequest, generate

    request = GenerationRequest.from_config({"schema": SCHEMA, "rows": rows, "format": file_format}, default_seed=1)
    started = time.perf_counter()
    outcome = generate(request)
    seconds = time.perf_counter() - started
    size = outcome.size_bytes
    outcome.discard()
    return {
        "rows": rows,
        "seconds": seconds,
        "size_bytes": size,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _engine_in_child(rows: int, file_format: str = "parquet") -> dict:
    result = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--measure", str(rows), file_format],
        cwd=BASE_DIR,
        env={**os.environ, "PYTHONPATH": str(BASE_DIR)},
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def faker_rows_per_second(rows: int = FAKER_SAMPLE_ROWS) -> float:
    """Plain Faker, one call per value, the same ten fields."""
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(1)
    started = time.perf_counter()
    for _ in range(rows):
        {
            "id": fake.uuid4(),
            "customer": fake.name(),
            "email": fake.email(),
            "age": fake.random_int(18, 90),
            "score": fake.pyfloat(min_value=0, max_value=1, right_digits=4),
            "active": fake.pybool(),
            "signed_up_at": fake.date_time_between(start_date="-10y", end_date="now"),
            "plan": fake.random_element(ENUM),
            "phone": fake.phone_number(),
            "code": fake.bothify("???-####", letters="ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        }
    return rows / (time.perf_counter() - started)


def run() -> list[dict]:
    faker_rate = faker_rows_per_second()
    small = _engine_in_child(SMALL_ROWS)
    large = _engine_in_child(ROWS)
    engine_rate = large["rows"] / large["seconds"]
    return [
        {
            "name": "engine rows/s to Parquet, 10 fields, 1,000,000 rows",
            "value": round(engine_rate),
            "unit": "rows/s",
            "baseline_name": f"plain Faker rows/s (same fields, {FAKER_SAMPLE_ROWS:,} rows, extrapolated)",
            "baseline_value": round(faker_rate),
            "goal": ">= 10x",
        },
        {
            "name": "peak RSS, 1,000,000 rows",
            "value": round(large["peak_rss_mb"], 1),
            "unit": "MB",
            "baseline_name": "peak RSS, 10,000 rows",
            "baseline_value": round(small["peak_rss_mb"], 1),
            "goal": "<= 1.1x",
        },
        {
            "name": "Parquet file size, 1,000,000 rows",
            "value": round(large["size_bytes"] / 2**20, 1),
            "unit": "MB",
            "baseline_name": None,
            "baseline_value": None,
            "goal": None,
        },
    ]


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        sys.path.insert(0, str(BASE_DIR))
        print(json.dumps(_measure_engine(int(sys.argv[2]), sys.argv[3])))
    else:
        for row in run():
            print(row)
