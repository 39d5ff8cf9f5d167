"""GET /api/memory/metrics (admin role)."""

import pytest

from cerebro import conf, metrics

pytestmark = pytest.mark.django_db

METRICS = "/cerebro/api/memory/metrics"


def test_metrics_are_for_the_admin_role_only(signed_in, client):
    assert (r := signed_in.get(METRICS)).status_code == 403, r.content
    assert signed_in.get(METRICS).json()["error"] == "authorization_error"
    assert (r := client.get(METRICS)).status_code == 401, r.content


def test_metrics_report_latency_cache_ratios_totals_and_config(staff_signed_in, upsert, signed_in):
    upsert("a", {"v": 1}, layer="context")
    upsert("b", {"v": 1}, layer="permanent")
    for _ in range(2):
        signed_in.post("/cerebro/api/memory/rag", {"query": "anything"}, format="json")

    r = staff_signed_in.get(METRICS)

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["metrics"]["totalMemories"] == {"context": 1, "temporary": 0, "permanent": 1}
    assert body["metrics"]["avgLatencyMs"]["p95"] > 0
    assert body["metrics"]["avgLatencyMs"]["p99"] >= body["metrics"]["avgLatencyMs"]["p95"]
    assert body["metrics"]["cacheHitRatioL1"] == 0.5
    assert body["metrics"]["cacheHitRatioL2"] == 0.0
    assert body["config"]["tokenBudget"] == 2000
    assert body["config"]["ttls"] == {"context": 15, "temporary": 10080, "permanent": None}


def test_alerts_fire_over_thresholds(staff_signed_in, monkeypatch):
    for _ in range(20):
        metrics.record_latency(conf.ALERT_P95_MS * 2)
    for _ in range(conf.ALERT_MIN_LOOKUPS):
        metrics.record_cache_lookup("l1", False)

    alerts = staff_signed_in.get(METRICS).json()["alerts"]

    kinds = {a["type"]: a for a in alerts}
    assert kinds["high_latency"]["threshold"] == conf.ALERT_P95_MS
    assert kinds["high_latency"]["current"] >= conf.ALERT_P95_MS
    assert "low_cache_hit_ratio_l1" in kinds


def test_percentiles_are_nearest_rank():
    samples = [float(n) for n in range(1, 101)]

    assert metrics.percentile(samples, 0.95) == 95
    assert metrics.percentile(samples, 0.99) == 99
    assert metrics.percentile([], 0.95) is None


def test_a_metrics_store_outage_never_fails_a_request(signed_in, monkeypatch):
    class Broken:
        def pipeline(self, **kwargs):
            raise ConnectionError("redis down")

        def hincrby(self, *args):
            raise ConnectionError("redis down")

        def delete(self, *keys):  # the fixture's reset
            return 0

    monkeypatch.setattr(metrics, "_redis", lambda: Broken())

    r = signed_in.post("/cerebro/api/memory/rag", {"query": "anything"}, format="json")

    assert r.status_code == 200, r.json()
