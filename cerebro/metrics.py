"""What GET /api/memory/metrics reports: latency of the memory endpoints and cache hit ratios.

Samples are shared by every process through Redis when ``REDIS_URL`` is set (one pipelined round
trip per request: push the sample, trim the list; counters are hash increments); on the embedded
default they live in this process. Latency percentiles cover the last
``CEREBRO_LATENCY_WINDOW_SECONDS`` (15 minutes), at most ``CEREBRO_LATENCY_WINDOW_SAMPLES``
samples; percentiles are nearest-rank.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import Counter, deque

from django.conf import settings

from cerebro import conf

logger = logging.getLogger(__name__)

LATENCY_KEY = "cerebro:metrics:latency"
COUNTERS_KEY = "cerebro:metrics:counters"

_lock = threading.Lock()
_local_samples: deque[tuple[float, float]] = deque(maxlen=conf.LATENCY_WINDOW_SAMPLES)
_local_counters: Counter = Counter()


def _redis():
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def record_latency(milliseconds: float) -> None:
    """Add a sample; a Redis outage loses the sample, never the request."""
    connection = _redis()
    if connection is None:
        with _lock:
            _local_samples.append((time.time(), milliseconds))
        return
    try:
        pipeline = connection.pipeline(transaction=False)
        pipeline.lpush(LATENCY_KEY, f"{time.time():.3f}:{milliseconds:.3f}")
        pipeline.ltrim(LATENCY_KEY, 0, conf.LATENCY_WINDOW_SAMPLES - 1)
        pipeline.execute()
    except Exception:
        logger.warning("cerebro metrics: could not record a latency sample", exc_info=True)


def record_cache_lookup(level: str, hit: bool) -> None:
    field = f"{level}:{'hit' if hit else 'miss'}"
    connection = _redis()
    if connection is None:
        with _lock:
            _local_counters[field] += 1
        return
    try:
        connection.hincrby(COUNTERS_KEY, field, 1)
    except Exception:
        logger.warning("cerebro metrics: could not count a cache lookup", exc_info=True)


def latency_samples() -> list[float]:
    """Latencies (ms) recorded inside the rolling window."""
    since = time.time() - conf.LATENCY_WINDOW_SECONDS
    connection = _redis()
    if connection is None:
        with _lock:
            return [ms for at, ms in _local_samples if at >= since]
    samples = []
    for raw in connection.lrange(LATENCY_KEY, 0, -1):
        at, _, ms = raw.decode().partition(":")
        if float(at) >= since:
            samples.append(float(ms))
    return samples


def cache_counters() -> dict[str, int]:
    connection = _redis()
    if connection is None:
        with _lock:
            return dict(_local_counters)
    return {key.decode(): int(value) for key, value in connection.hgetall(COUNTERS_KEY).items()}


def percentile(samples: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None without samples."""
    if not samples:
        return None
    ordered = sorted(samples)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return round(ordered[rank - 1], 2)


def hit_ratio(counters: dict[str, int], level: str) -> tuple[float | None, int]:
    hits, misses = counters.get(f"{level}:hit", 0), counters.get(f"{level}:miss", 0)
    lookups = hits + misses
    return (round(hits / lookups, 4) if lookups else None), lookups


def reset() -> None:
    """Forget every sample and counter (tests, and staff after a configuration change)."""
    with _lock:
        _local_samples.clear()
        _local_counters.clear()
    connection = _redis()
    if connection is not None:
        connection.delete(LATENCY_KEY, COUNTERS_KEY)
