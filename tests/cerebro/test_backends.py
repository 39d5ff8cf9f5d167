"""What only the full stack does: PostgreSQL full-text columns and indexes, metrics shared in Redis,
and the beat job that purges expired memories."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cerebro import metrics
from cerebro.models import Memory

pytestmark = pytest.mark.django_db


def test_the_purge_job_is_scheduled():
    entry = settings.CELERY_BEAT_SCHEDULE["cerebro-memory-purge-expired"]

    assert entry["task"] == "cerebro.memory_purge_expired"
    assert entry["schedule"] <= 900


def test_expired_memories_never_reach_a_working_set(signed_in, upsert):
    upsert("gone", {"note": "expired"}, layer="context")
    upsert("here", {"note": "alive"}, layer="context")
    Memory.objects.filter(key="gone").update(expires_at=timezone.now() - timedelta(seconds=1))

    r = signed_in.post("/cerebro/api/memory/context", {}, format="json")

    assert [m["key"] for m in r.json()["memories"]] == ["here"]


@pytest.mark.postgres
def test_the_trigger_keeps_the_search_vector_and_the_gin_index_serves_search(upsert, user):
    upsert("user:1:preference:theme", {"theme": "dark"})

    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM cerebro_memory WHERE key = %s", ["user:1:preference:theme"])
        vector = cursor.fetchone()[0]
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN SELECT id FROM cerebro_memory WHERE search_vector @@ to_tsquery('english', 'theme')")
        plan = " ".join(row[0] for row in cursor.fetchall())

    assert "'prefer'" in vector and "'dark'" in vector
    assert "cerebro_memory_search_gin" in plan


@pytest.mark.redis
def test_latency_samples_and_cache_counters_are_shared_through_redis(signed_in, upsert):
    from django_redis import get_redis_connection

    upsert("k", {"v": 1})
    signed_in.post("/cerebro/api/memory/rag", {"query": "anything"}, format="json")

    metrics.flush()  # a process sends its samples within FLUSH_SECONDS; don't wait for it

    redis = get_redis_connection("default")
    assert redis.llen(metrics.LATENCY_KEY) == 2
    assert int(redis.hget(metrics.COUNTERS_KEY, "l1:miss")) == 1
    assert metrics.percentile(metrics.latency_samples(), 0.95) > 0
