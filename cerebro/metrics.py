"""What GET /api/memory/metrics reports: latency of the memory endpoints and cache hit ratios.

Samples are shared by every process through Redis when ``REDIS_URL`` is set; on the embedded
default they live in this process. A process sends its samples in batches, off the request path:
a timer sends them (one pipelined round trip pushes them and trims the list) ``FLUSH_SECONDS``
after the first of a batch, or the request that makes ``FLUSH_SAMPLES`` does; so a request does not
wait for Redis to store its own timing. Reading the samples sends this process's first; a process
that dies loses at most its last second of samples. Cache counters are hash increments.

Latency percentiles cover the last ``CEREBRO_LATENCY_WINDOW_SECONDS`` (15 minutes), at most
``CEREBRO_LATENCY_WINDOW_SAMPLES`` samples; percentiles are nearest-rank.
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
# Samples waiting to be sent to Redis (full stack), oldest first; a timer sends them.
FLUSH_SECONDS = 1.0
FLUSH_SAMPLES = 50
_pending: list[str] = []


def _redis():
    if not settings.REDIS_URL:
        return None
    from django_redis import get_redis_connection

    return get_redis_connection("default")


def record_latency(milliseconds: float) -> None:
    """Add a sample; a Redis outage loses samples, never the request."""
    connection = _redis()
    if connection is None:
        with _lock:
            _local_samples.append((time.time(), milliseconds))
        return
    with _lock:
        first = not _pending
        _pending.append(f"{time.time():.3f}:{milliseconds:.3f}")
        full = len(_pending) >= FLUSH_SAMPLES
    if full:
        flush(connection)
    elif first:
        timer = threading.Timer(FLUSH_SECONDS, flush)
        timer.daemon = True
        timer.start()


def flush(connection=None) -> None:
    """Send this process's waiting latency samples to Redis now."""
    connection = connection or _redis()
    with _lock:
        batch = list(_pending)
        _pending.clear()
    if connection is None or not batch:
        return
    try:
        pipeline = connection.pipeline(transaction=False)
        pipeline.lpush(LATENCY_KEY, *batch)  # the newest ends up first, as with one LPUSH each
        pipeline.ltrim(LATENCY_KEY, 0, conf.LATENCY_WINDOW_SAMPLES - 1)
        pipeline.execute()
    except Exception:
        logger.warning("cerebro metrics: could not record %d latency samples", len(batch), exc_info=True)


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
    flush(connection)
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
        _pending.clear()
    connection = _redis()
    if connection is not None:
        connection.delete(LATENCY_KEY, COUNTERS_KEY)
