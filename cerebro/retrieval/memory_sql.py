# ruff: noqa: S608 -- statements are assembled from constants only; every value is a bound parameter.
"""PostgreSQL statements behind memory search and the working set, each one round trip.

Written as SQL rather than ORM expressions: building the annotated querysets cost more than
running them (about half of a search request's time went to compiling expressions), and one
statement lets search decide in the database whether its any-word fill is needed.

Statements are assembled from constants only (layer names, column lists, the number of query
words); every value, query text included, is a bound parameter. Full-text matching reads
``search_vector`` (trigger-maintained, GIN-indexed, english
configuration). Query text only ever reaches PostgreSQL as a bound parameter of
``plainto_tsquery`` / ``websearch_to_tsquery``, which accept any input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from cerebro import conf
from cerebro.models import WORKING_SET_EXCLUDED, Memory
from cerebro.retrieval.working_set import Candidate, Ranking, summarise

SEARCH_CONFIG = "english"

# Columns the memory endpoints answer with (never the embedding, never the search vector).
OUTPUT_COLUMNS = (
    "id",
    "key",
    "layer",
    "sensitivity",
    "content",
    "content_encrypted",
    "confidence",
    "tags",
    "created_at",
    "updated_at",
    "expires_at",
)
# Written as the partial indexes' condition is, so the planner sees that they apply.
_NOT_SECRET = "NOT (m.sensitivity IN ({}))".format(", ".join(f"'{s}'" for s in WORKING_SET_EXCLUDED))
_LIVE = "(m.expires_at IS NULL OR m.expires_at > %(now)s)"


def any_word_query(words: Sequence[str]) -> str:
    """``websearch_to_tsquery`` text matching any of ``words`` (its ``or`` operator)."""
    return " or ".join(words)


# --- search -------------------------------------------------------------------------------------


def _search_filters(*, layer: str | None, min_confidence: float | None, tags: list[str] | None) -> str:
    clauses = ["m.user_id = %(user)s", _LIVE]
    if layer:
        clauses.append("m.layer = %(layer)s")
    if min_confidence is not None:
        clauses.append("m.confidence >= %(min_confidence)s")
    if tags:
        clauses.append("m.tags @> %(tags)s::jsonb")  # GIN-indexed (jsonb_path_ops)
    return " AND ".join(clauses)


def _search_statement(word_count: int, filters: str) -> str:
    every = f"plainto_tsquery('{SEARCH_CONFIG}', %(every)s)"
    some = f"websearch_to_tsquery('{SEARCH_CONFIG}', %(some)s)"
    coverage = " + ".join(
        f"(m.search_vector @@ plainto_tsquery('{SEARCH_CONFIG}', %(word{n})s))::int" for n in range(word_count)
    )
    columns = ", ".join(f"m.{column}" for column in OUTPUT_COLUMNS)
    # every_word: memories holding every word, ranked against all of them. some_words (the fill):
    # memories holding some but not all, ranked against any of them; its scan only runs (a
    # one-time filter) when fewer than `limit` memories hold every word. Each part's relevance is
    # coverage x (0.5 + 0.5 x rank / the part's best rank).
    return f"""
        WITH every_word AS MATERIALIZED (
            SELECT m.id, ts_rank(m.search_vector, {every}) AS rank
            FROM cerebro_memory m
            WHERE {filters} AND m.search_vector @@ {every}
        ), some_words AS MATERIALIZED (
            SELECT m.id, ({coverage})::float8 / {word_count} AS coverage, ts_rank(m.search_vector, {some}) AS rank
            FROM cerebro_memory m
            WHERE %(fill)s AND (SELECT count(*) FROM every_word) < %(limit)s
              AND {filters} AND m.search_vector @@ {some} AND NOT m.search_vector @@ {every}
        ), hits AS (
            (SELECT id, rank, 0.5 + 0.5 * rank / NULLIF(max(rank) OVER (), 0) AS relevance
             FROM every_word ORDER BY relevance DESC, rank DESC, id LIMIT %(limit)s)
            UNION ALL
            (SELECT id, rank, coverage * (0.5 + 0.5 * rank / NULLIF(max(rank) OVER (), 0)) AS relevance
             FROM some_words ORDER BY relevance DESC, rank DESC, id
             LIMIT GREATEST(%(limit)s - (SELECT count(*) FROM every_word), 0))
        )
        SELECT {columns}, COALESCE(h.relevance, 0)::float8 AS relevance,
               (SELECT count(*) FROM every_word) AS every_total, (SELECT count(*) FROM some_words) AS some_total
        FROM hits h JOIN cerebro_memory m ON m.id = h.id
        ORDER BY relevance DESC, m.id
    """


def search(
    *,
    user_id,
    words: Sequence[str],
    now: datetime,
    limit: int,
    layer: str | None = None,
    min_confidence: float | None = None,
    tags: list[str] | None = None,
) -> tuple[list[Memory], int]:
    """The best ``limit`` memories for ``words`` (each with ``.relevance``) and the total matched.

    Memories holding every word come first; only when fewer than ``limit`` do, memories holding
    some of the words fill the list, and ``total`` then counts both.
    """
    filters = _search_filters(layer=layer, min_confidence=min_confidence, tags=tags)
    params: dict[str, Any] = {
        "user": user_id,
        "now": now,
        "limit": limit,
        "every": " ".join(words),
        "some": any_word_query(words),
        "fill": len(words) > 1,
        "layer": layer,
        "min_confidence": min_confidence,
        "tags": json.dumps(tags or []),
        **{f"word{n}": word for n, word in enumerate(words)},
    }
    memories = list(Memory.objects.raw(_search_statement(len(words), filters), params))
    for memory in memories:
        memory.relevance = round(min(1.0, memory.relevance), 4)
    total = (memories[0].every_total + memories[0].some_total) if memories else 0
    return memories, total


# --- working set ----------------------------------------------------------------------------------


# The lists of memories that match none of the conversation's terms, per layer (see
# cerebro/retrieval/working_set.py); each is one short scan of a partial index
# (cerebro_memory_ws_recent, cerebro_memory_ws_confident).
LIST_ORDERS = {
    "recent": "m.updated_at DESC, m.confidence DESC, m.id",
    "confident": "m.confidence DESC, m.updated_at DESC, m.id",
}


def _pool_statement(with_terms: bool) -> str:
    weights = conf.CONTEXT_WEIGHTS
    eligible = f"m.user_id = %(user)s AND {_NOT_SECRET} AND {_LIVE}"
    conversation = f"websearch_to_tsquery('{SEARCH_CONFIG}', %(terms)s)"
    columns = "m.id, m.key, m.layer, m.confidence, m.token_count, m.updated_at"
    if with_terms:
        matches = (
            f"SELECT {columns}, ts_rank(m.search_vector, {conversation})::float8 AS rank"
            f" FROM cerebro_memory m WHERE {eligible} AND m.search_vector @@ {conversation}"
        )
        unmatched = f" AND (m.search_vector @@ {conversation}) IS NOT TRUE"
    else:
        matches = f"SELECT {columns}, 0::float8 AS rank FROM cerebro_memory m WHERE false"
        unmatched = ""
    lists = "\n            UNION ALL\n            ".join(
        f"(SELECT {columns}, '{name}' AS list FROM cerebro_memory m"
        f" WHERE {eligible} AND m.layer = '{layer}'{unmatched} ORDER BY {order} LIMIT %(per_list)s)"
        for layer in conf.LAYER_WEIGHTS
        for name, order in LIST_ORDERS.items()
    )

    def layer_weight_of(column: str) -> str:
        cases = " ".join(f"WHEN '{layer}' THEN {weight!r}" for layer, weight in conf.LAYER_WEIGHTS.items())
        return f"(CASE {column} {cases} ELSE 0 END)::float8"

    def recency(column: str) -> str:
        return f"power(0.5, GREATEST(%(now_epoch)s - extract(epoch FROM {column})::float8, 0) / 3600.0 / %(half_life)s)"

    def score(relevance: str, layer: str, confidence: str, recency_part: str) -> str:
        return (
            f"{weights['relevance']!r} * {relevance} + {weights['layer']!r} * {layer}"
            f" + {weights['confidence']!r} * {confidence} + {weights['recency']!r} * {recency_part}"
        )

    # matches: every memory holding a term of the conversation, ranked (the GIN index finds them).
    # listed: of the others, per layer, the most recent and the most confident.
    # bound: the best score a memory in neither could have (None when the lists hold them all).
    return f"""
        WITH matches AS MATERIALIZED (
            {matches}
        ), listed AS MATERIALIZED (
            {lists}
        ), pool AS MATERIALIZED (
            SELECT id, key, layer, confidence, token_count, updated_at, rank FROM matches
            UNION ALL
            SELECT DISTINCT id, key, layer, confidence, token_count, updated_at, 0::float8 FROM listed
        ), parts AS (
            SELECT id, key, layer, confidence, token_count,
                   COALESCE(rank / NULLIF(max(rank) OVER (), 0), 0)::float8 AS relevance,
                   {layer_weight_of("layer")} AS layer_weight,
                   {recency("updated_at")} AS recency
            FROM pool
        ), bound AS (
            SELECT max({score("0", layer_weight_of("layer"), "confidence_cap", recency("written_cap"))}) AS value
            FROM (
                SELECT layer, count(*) FILTER (WHERE list = 'confident') AS listed,
                       min(confidence) FILTER (WHERE list = 'confident') AS confidence_cap,
                       min(updated_at) FILTER (WHERE list = 'recent') AS written_cap
                FROM listed GROUP BY layer
            ) per_layer
            WHERE listed >= %(per_list)s
        )
        SELECT id::text, key, layer, confidence, token_count, relevance, layer_weight, recency,
               {score("relevance", "layer_weight", "confidence", "recency")} AS score,
               (SELECT count(*) FROM pool) AS pool_size, (SELECT value FROM bound) AS outside_bound
        FROM parts
        ORDER BY score DESC, id
        LIMIT %(candidates)s
    """


POOL_WITH_TERMS = _pool_statement(with_terms=True)
POOL_WITHOUT_TERMS = _pool_statement(with_terms=False)


def pool_parameters(*, user_id, terms: Sequence[str], now: datetime, per_list: int, limit: int) -> dict[str, Any]:
    """The bound parameters of ``POOL_WITH_TERMS`` / ``POOL_WITHOUT_TERMS``."""
    return {
        "user": user_id,
        "now": now,
        "now_epoch": now.timestamp(),
        "half_life": conf.RECENCY_HALF_LIFE_HOURS,
        "per_list": per_list,
        "candidates": limit,
        "terms": any_word_query(terms),
    }


def working_set_ranking(*, user_id, terms: Sequence[str], now: datetime, per_list: int, limit: int) -> Ranking:
    """The working set's candidates on PostgreSQL: the pool of cerebro/retrieval/working_set.py
    (every memory matching ``terms``, and per layer the ``per_list`` most recent and most
    confident of the others) scored in the database; the best ``limit``, best first."""
    params = pool_parameters(user_id=user_id, terms=terms, now=now, per_list=per_list, limit=limit)
    with connection.cursor() as cursor:
        cursor.execute(POOL_WITH_TERMS if terms else POOL_WITHOUT_TERMS, params)
        rows = cursor.fetchall()
    candidates = [
        Candidate(
            id=row[0],
            key=row[1],
            layer=row[2],
            confidence=row[3],
            token_count=row[4],
            relevance=round(row[5], 4),
            layer_weight=row[6],
            recency=round(row[7], 4),
            score=round(row[8], 4),
            exact_score=row[8],
        )
        for row in rows
    ]
    pool_size, bound = (rows[0][9], rows[0][10]) if rows else (0, None)
    return summarise(candidates, pool_size=pool_size, per_list=per_list, bound=bound, limit=limit)
