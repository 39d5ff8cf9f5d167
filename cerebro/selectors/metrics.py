"""What GET /api/memory/metrics answers (admin role)."""

from __future__ import annotations

from cerebro import conf, metrics
from cerebro.selectors.memory import memory_totals_by_layer
from cerebro.selectors.rag import vector_breaker


def memory_metrics() -> dict:
    """Cache hit ratios, latency percentiles, totals per layer, alerts over thresholds, config."""
    samples = metrics.latency_samples()
    p95, p99 = metrics.percentile(samples, 0.95), metrics.percentile(samples, 0.99)
    counters = metrics.cache_counters()
    l1_ratio, l1_lookups = metrics.hit_ratio(counters, "l1")
    l2_ratio, l2_lookups = metrics.hit_ratio(counters, "l2")
    breaker_state = vector_breaker.state()

    alerts = []
    for name, value, threshold in (
        ("high_latency", p95, conf.ALERT_P95_MS),
        ("high_latency_p99", p99, conf.ALERT_P99_MS),
    ):
        if value is not None and value > threshold:
            alerts.append({"type": name, "threshold": threshold, "current": value})
    for name, ratio, lookups in (
        ("low_cache_hit_ratio_l1", l1_ratio, l1_lookups),
        ("low_cache_hit_ratio_l2", l2_ratio, l2_lookups),
    ):
        if ratio is not None and lookups >= conf.ALERT_MIN_LOOKUPS and ratio < conf.ALERT_MIN_HIT_RATIO:
            alerts.append({"type": name, "threshold": conf.ALERT_MIN_HIT_RATIO, "current": ratio})
    if breaker_state != "closed":
        alerts.append({"type": "circuit_breaker_open", "threshold": conf.BREAKER_FAILURE_THRESHOLD, "current": 1})

    return {
        "metrics": {
            "cacheHitRatioL1": l1_ratio,
            "cacheHitRatioL2": l2_ratio,
            "avgLatencyMs": {"p95": p95, "p99": p99},
            "totalMemories": memory_totals_by_layer(),
            "samples": len(samples),
            "cacheLookups": {"l1": l1_lookups, "l2": l2_lookups},
            "circuitBreaker": breaker_state,
        },
        "alerts": alerts,
        "config": {
            "tokenBudget": conf.TOKEN_BUDGET,
            "ttls": dict(conf.TTL_MINUTES),
            "promotion": {"minConfidence": conf.PROMOTE_MIN_CONFIDENCE},
            "latencyWindowSeconds": conf.LATENCY_WINDOW_SECONDS,
            "thresholds": {
                "p95Ms": conf.ALERT_P95_MS,
                "p99Ms": conf.ALERT_P99_MS,
                "minCacheHitRatio": conf.ALERT_MIN_HIT_RATIO,
            },
            "rag": {
                "embedder": conf.EMBEDDER,
                "cacheSeconds": conf.RAG_CACHE_SECONDS,
                "lexicalFallback": conf.RAG_LEXICAL_FALLBACK,
                "breakerFailures": conf.BREAKER_FAILURE_THRESHOLD,
                "breakerResetSeconds": conf.BREAKER_RESET_SECONDS,
            },
        },
    }
