"""Flat memory: more rows must not need more memory (peak RSS of fresh processes, via the bench)."""

from __future__ import annotations

import pytest

from bench import marketplace_engine


@pytest.mark.parametrize("file_format", ["parquet", "csv", "json"])
def test_twenty_times_the_rows_needs_no_more_memory(file_format):
    small = marketplace_engine._engine_in_child(10_000, file_format)
    large = marketplace_engine._engine_in_child(200_000, file_format)
    assert large["peak_rss_mb"] <= small["peak_rss_mb"] * 1.1, (small, large)
