"""Ten seconds of bench/load.py in CI: the same mix and checks as the one-minute run `make bench` records.

The full run (60 s, throughput and p99 in docs/BENCHMARKS.md) is too long for CI; this one proves
on every change that the mix still answers 2xx only, no 5xx, and that every acknowledged write is
in the database (and nothing else is).
"""

from __future__ import annotations

import pytest

from bench.load import run_load

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_ten_seconds_of_the_load_mix_answer_2xx_and_lose_no_write(stack_env, tmp_path, quality_report):
    outcome = run_load(stack_env, seconds=10, users=8, migrate=False, with_worker=False, log_dir=tmp_path)
    quality_report.add(f"load smoke: {outcome.summary()}")

    assert outcome.requests > 0, outcome.summary()
    assert outcome.server_errors == 0, outcome.summary()
    assert outcome.failures == 0, outcome.summary()
    assert outcome.lost_writes == 0 and sum(outcome.writes_seen.values()) > 0, outcome.summary()
