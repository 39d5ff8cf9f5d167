"""What only the full stack does: PostgreSQL full-text columns and indexes, metrics shared in Redis,
and the beat job that purges expired memories."""

import random
import re
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

    assert entry["task"] == "cerebro.memory_purge_expired_task"
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


@pytest.fixture
def thousands_of_memories(user):
    """3,000 memories over a vocabulary of 300 words, analysed, so the planner costs real plans."""
    now = timezone.now()
    randomness = random.Random(5)
    vocabulary = [f"word{n}" for n in range(300)]
    layers = ["temporary", "permanent", "context"]
    Memory.objects.bulk_create(
        Memory(
            user=user,
            key=f"note:{n}",
            layer=layers[n % 3],
            confidence=round(randomness.random(), 2),
            content={"note": " ".join(words)},
            search_text=" ".join(words),
            token_count=20,
            created_at=now,
            updated_at=now - timedelta(hours=randomness.uniform(0, 500)),
            expires_at=None if n % 3 == 1 else now + timedelta(minutes=15),
        )
        for n in range(3000)
        for words in [randomness.sample(vocabulary, 12)]
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cerebro_memory, cerebro_memoryterm")


@pytest.mark.postgres
def test_the_working_set_and_search_statements_read_their_indexes(thousands_of_memories, user):
    from cerebro import conf
    from cerebro.retrieval import memory_sql

    now = timezone.now()
    working_set = memory_sql.working_set_parameters(
        user_id=user.pk,
        terms=["word1", "word2", "word3"],
        now=now,
        per_list=conf.CONTEXT_POOL,
        limit=conf.CONTEXT_CANDIDATES,
    )
    search, search_params = memory_sql.search_statement(user_id=user.pk, words=["word1", "word2"], now=now, limit=10)

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + memory_sql.WORKING_SET, working_set)
        working_set_plan = " ".join(row[0] for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + search, search_params)
        search_plan = " ".join(row[0] for row in cursor.fetchall())

    # The matches come from the memories' terms (index-only once vacuumed), never from the memories
    # themselves; each list from one scan of a partial index.
    assert "cerebro_memoryterm_lookup" in working_set_plan
    assert "Seq Scan on cerebro_memoryterm" not in working_set_plan
    assert "cerebro_memory_search_gin" not in working_set_plan
    # An index-only scan once the visibility map says the pages are all visible.
    assert re.search(r"Index (Only )?Scan using cerebro_memory_ws_recent", working_set_plan)
    assert re.search(r"Index (Only )?Scan using cerebro_memory_ws_confident", working_set_plan)
    assert "Seq Scan on cerebro_memory" not in search_plan
    assert "Bitmap Index Scan on cerebro_memory_search_gin" in search_plan


@pytest.mark.postgres
def test_search_and_the_working_set_answer_alike_with_a_generic_plan_and_a_custom_one(thousands_of_memories, user):
    # The statements are prepared (core.db.prepared_cursor): PostgreSQL plans the first five
    # executions for their parameters, then may keep one generic plan for every parameter.
    from cerebro import conf
    from cerebro.retrieval import memory_sql

    now = timezone.now()
    searches = [
        {"words": ["word1", "word2"]},
        {"words": ["word7"]},
        {"words": ["word3", "word40", "word200"], "layer": "permanent"},
        {"words": ["word5", "nothing"], "min_confidence": 0.5},
        {"words": ["word8", "word9"], "tags": ["absent"]},
    ]
    conversations = [["word1", "word2", "word3"], ["word9"], []]

    def answers() -> list:
        found = [memory_sql.search(user_id=user.pk, now=now, limit=10, **search) for search in searches]
        ranked = [
            memory_sql.working_set(
                user_id=user.pk, terms=terms, now=now, per_list=conf.CONTEXT_POOL, limit=conf.CONTEXT_CANDIDATES
            ).ranking
            for terms in conversations
        ]
        return [found, ranked]

    by_plan = {}
    for mode in ("force_custom_plan", "force_generic_plan"):
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
        by_plan[mode] = answers()

    assert by_plan["force_generic_plan"] == by_plan["force_custom_plan"]
    assert sum(len(hits) for hits, _ in by_plan["force_generic_plan"][0]) > 10
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement, generic_plans FROM pg_prepared_statements WHERE generic_plans > 0")
        generic = " ".join(statement for statement, _ in cursor.fetchall())
    assert "every_word" in generic and "matches" in generic
