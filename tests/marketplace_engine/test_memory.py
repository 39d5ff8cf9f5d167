"""Flat memory: more rows must not need more memory (peak RSS of fresh processes, via the bench)."""

from __future__ import annotations

from bench import marketplace_engine


def test_twenty_times_the_rows_needs_no_more_memory():
    small = marketplace_engine._engine_in_child(10_000)
    large = marketplace_engine._engine_in_child(200_000)
    assert large["peak_rss_mb"] <= small["peak_rss_mb"] * 1.1, (small, large)
