"""cerebro_memoryterm (migration 0011): the lexemes of every memory the working set may show, with
the weight ts_rank gives each, kept in step with the memories by triggers on PostgreSQL."""

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cerebro import conf
from cerebro.models import Memory, MemoryTerm
from cerebro.retrieval import memory_sql

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def _terms(memory_id) -> dict[str, float]:
    return dict(MemoryTerm.objects.filter(memory_id=memory_id).values_list("lexeme", "weight"))


def _ts_rank_of_each_lexeme(memory_id) -> dict[str, float]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.lexeme, ts_rank(m.search_vector, quote_literal(t.lexeme)::tsquery)"
            " FROM cerebro_memory m CROSS JOIN unnest(m.search_vector) t WHERE m.id = %s",
            [memory_id],
        )
        return dict(cursor.fetchall())


def test_a_memory_has_a_row_per_lexeme_weighted_as_ts_rank_weighs_it(upsert):
    memory = upsert("note:garden", {"note": "tomatoes tomatoes tomatoes and basil, water the tomatoes daily"})

    terms, ranks = _terms(memory["id"]), _ts_rank_of_each_lexeme(memory["id"])

    assert set(terms) == set(ranks) >= {"tomato", "basil", "water"}
    assert terms == pytest.approx(ranks, rel=1e-6)
    assert terms["tomato"] > terms["basil"]  # four positions weigh more than one


def test_the_weight_is_ts_ranks_for_every_position_weight_and_a_vector_without_positions():
    # Vectors with positions of every weight class (setweight), in every order, and one stripped.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH vectors(v) AS (VALUES
                (setweight(to_tsvector('english', 'cat dog cat'), 'A') || to_tsvector('english', 'cat bird cat cat')),
                (to_tsvector('english', 'cat cat') || setweight(to_tsvector('english', 'cat'), 'B')),
                (setweight(to_tsvector('english', 'cat'), 'C') || setweight(to_tsvector('english', 'dog cat'), 'A')),
                (strip(to_tsvector('english', 'cat dog cat')))
            )
            SELECT t.lexeme, cerebro_lexeme_rank_weight(t.weights), ts_rank(v, quote_literal(t.lexeme)::tsquery)
            FROM vectors CROSS JOIN unnest(v) t
            """
        )
        rows = cursor.fetchall()

    assert len(rows) == 8  # cat, dog, bird; cat; cat, dog; cat, dog
    assert [weight for _, weight, _ in rows] == pytest.approx([rank for _, _, rank in rows], rel=1e-6)


def test_the_rows_follow_the_memory_through_every_change_that_scores_it(upsert, user):
    memory = upsert("note:trip", {"note": "pack the tent"})
    rows = Memory.objects.filter(pk=memory["id"])

    upsert("note:trip", {"note": "book the train"})
    assert set(_terms(memory["id"])) >= {"book", "train"} and "tent" not in _terms(memory["id"])

    later = timezone.now() + timedelta(days=3)
    rows.update(layer="permanent", confidence=0.25, expires_at=later, updated_at=later - timedelta(days=1))
    copied = set(MemoryTerm.objects.filter(memory_id=memory["id"]).values_list("layer", "confidence", "expires_at"))
    assert copied == {("permanent", 0.25, later)}

    rows.update(sensitivity="secret")
    assert _terms(memory["id"]) == {}
    rows.update(sensitivity="confidential")
    assert "train" in _terms(memory["id"])

    rows.delete()
    assert not MemoryTerm.objects.filter(memory_id=memory["id"]).exists()

    upsert("note:other", {"note": "more words"})
    user.delete()
    assert not MemoryTerm.objects.exists()


def test_an_update_that_changes_nothing_scored_leaves_the_rows_alone(upsert):
    memory = upsert("note:plain", {"note": "a quiet note"})

    def row_versions() -> set:
        with connection.cursor() as cursor:
            cursor.execute("SELECT xmin::text FROM cerebro_memoryterm WHERE memory_id = %s", [memory["id"]])
            return {version for (version,) in cursor.fetchall()}

    before = row_versions()
    Memory.objects.filter(pk=memory["id"]).update(token_count=99, promoted_at=timezone.now())

    assert row_versions() == before != set()


def test_the_working_set_ranks_every_matching_memory_as_ts_rank_does(user):
    now = timezone.now()
    randomness = random.Random(11)
    vocabulary = [f"word{n}" for n in range(40)]
    Memory.objects.bulk_create(
        Memory(
            user=user,
            key=f"note:{n}",
            layer=("temporary", "permanent", "context")[n % 3],
            confidence=round(randomness.random(), 2),
            content={"note": n},
            search_text=" ".join(randomness.choices(vocabulary, k=randomness.randint(3, 15))),
            token_count=10,
            created_at=now,
            updated_at=now - timedelta(hours=randomness.uniform(0, 100)),
        )
        for n in range(400)
    )
    terms = ["word1", "word7", "word30"]

    ranking = memory_sql.working_set(
        user_id=user.pk, terms=terms, now=now, per_list=conf.CONTEXT_POOL, limit=conf.CONTEXT_CANDIDATES
    ).ranking
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id::text, ts_rank(search_vector, %s::tsquery) FROM cerebro_memory"
            " WHERE search_vector @@ %s::tsquery",
            ["word1 | word7 | word30"] * 2,
        )
        ranks = dict(cursor.fetchall())

    best = max(ranks.values())
    matched = [candidate for candidate in ranking.candidates if candidate.id in ranks]
    assert len(matched) > 20
    assert [c.relevance for c in matched] == [round(ranks[c.id] / best, 4) for c in matched]
    assert all(c.relevance == 0 for c in ranking.candidates if c.id not in ranks)
    assert ranking.pool.size >= len(ranks)
