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
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection

from cerebro import conf
from cerebro.models import ENCRYPTED_SENSITIVITIES, WORKING_SET_EXCLUDED
from cerebro.retrieval import text as text_analysis
from cerebro.retrieval.working_set import Candidate, Ranking, summarise
from core.db import prepared_cursor

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
    # The queries are made once, in q, and read by scalar subqueries: the statement is prepared
    # (core.db.prepared_cursor), and a generic plan would otherwise parse the query text per row.
    every = "(SELECT every FROM q)"
    some = "(SELECT any_word FROM q)"
    coverage = " + ".join(f"(m.search_vector @@ (SELECT words[{n}] FROM q))::int" for n in range(1, word_count + 1))
    columns = ", ".join(f"m.{column}" for column in OUTPUT_COLUMNS)
    # every_word: memories holding every word, ranked against all of them. some_words (the fill):
    # memories holding some but not all, ranked against any of them; its scan only runs (a
    # one-time filter) when fewer than `limit` memories hold every word. Each part's relevance is
    # coverage x (0.5 + 0.5 x rank / the part's best rank).
    return f"""
        WITH q AS MATERIALIZED (
            SELECT plainto_tsquery('{SEARCH_CONFIG}', %(every)s) AS every,
                   websearch_to_tsquery('{SEARCH_CONFIG}', %(some)s) AS any_word,
                   ARRAY(SELECT plainto_tsquery('{SEARCH_CONFIG}', word)
                         FROM unnest(%(words)s::text[]) WITH ORDINALITY AS w(word, n) ORDER BY n) AS words
        ), every_word AS MATERIALIZED (
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


def search_statement(
    *,
    user_id,
    words: Sequence[str],
    now: datetime,
    limit: int,
    layer: str | None = None,
    min_confidence: float | None = None,
    tags: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """The search statement for these filters and its bound parameters."""
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
        "words": list(words),
    }
    return _search_statement(len(words), filters), params


class FoundMemory(NamedTuple):
    """A memory as the search statement returns it: the columns the memory endpoints answer with
    (``OUTPUT_COLUMNS``, read by ``memory_json`` as it reads a Memory) and its relevance.

    Built straight from the statement's rows: a model instance per hit (``Memory.objects.raw``)
    cost more than the rest of a search's Python work together."""

    pk: uuid.UUID
    key: str
    layer: str
    sensitivity: str
    content: Any
    content_encrypted: str
    confidence: float
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime | None
    relevance: float

    @property
    def id(self) -> uuid.UUID:
        return self.pk

    @property
    def is_encrypted(self) -> bool:
        return self.sensitivity in ENCRYPTED_SENSITIVITIES


def _decoded_json(text: str | None) -> Any:
    # Django reads jsonb as text and decodes it in JSONField.from_db_value with json.loads; so here.
    return None if text is None else json.loads(text)


def search(
    *,
    user_id,
    words: Sequence[str],
    now: datetime,
    limit: int,
    layer: str | None = None,
    min_confidence: float | None = None,
    tags: list[str] | None = None,
) -> tuple[list[FoundMemory], int]:
    """The best ``limit`` memories for ``words`` (each with ``.relevance``) and the total matched.

    Memories holding every word come first; only when fewer than ``limit`` do, memories holding
    some of the words fill the list, and ``total`` then counts both.
    """
    statement, params = search_statement(
        user_id=user_id, words=words, now=now, limit=limit, layer=layer, min_confidence=min_confidence, tags=tags
    )
    with prepared_cursor() as cursor:
        cursor.execute(statement, params)
        rows = cursor.fetchall()
    memories = [
        FoundMemory(
            pk=row[0],
            key=row[1],
            layer=row[2],
            sensitivity=row[3],
            content=_decoded_json(row[4]),
            content_encrypted=row[5],
            confidence=row[6],
            tags=_decoded_json(row[7]),
            created_at=row[8],
            updated_at=row[9],
            expires_at=row[10],
            relevance=round(min(1.0, row[11]), 4),
        )
        for row in rows
    ]
    total = (rows[0][12] + rows[0][13]) if rows else 0
    return memories, total


# --- working set ----------------------------------------------------------------------------------

# The lists of memories that match none of the conversation's terms, per layer (see
# cerebro/retrieval/working_set.py); each is one short scan of a partial index
# (cerebro_memory_ws_recent, cerebro_memory_ws_confident).
LIST_ORDERS = {
    "recent": "m.updated_at DESC, m.confidence DESC, m.id",
    "confident": "m.confidence DESC, m.updated_at DESC, m.id",
}


# The conversation's lexemes (english configuration), each with its count, in order of first
# appearance: the text given, else the chat's most recent messages, newest first (none for an
# unknown chat or another user's).
CONVERSATION_LEXEMES = f"""
    WITH recent AS (
        SELECT message.content, message.created_at
        FROM cerebro_chatmessage message JOIN cerebro_chat chat ON chat.id = message.chat_id
        WHERE message.chat_id = %(chat)s AND chat.user_id = %(user)s
        ORDER BY message.created_at DESC LIMIT %(messages)s
    )
    SELECT term.lexeme, cardinality(term.positions)
    FROM (
        SELECT to_tsvector('{SEARCH_CONFIG}', COALESCE(
            %(text)s::text, string_agg(content, chr(10) ORDER BY created_at DESC), '')) AS vector
        FROM recent
    ) conversation CROSS JOIN unnest(conversation.vector) term
    ORDER BY term.positions[1], term.lexeme
"""

# ANALYZE's sample of how common the most common lexemes of the memories are (at most ten times
# the statistics target of them); the frequencies end with three summary values, the least
# frequency first.
LEXEME_STATISTICS = """
    SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs
    FROM pg_stats s
    WHERE s.schemaname = current_schema() AND s.tablename = 'cerebro_memory'
      AND s.attname = 'search_vector' AND NOT s.inherited
"""


@dataclass(frozen=True)
class LexemeShares:
    """How common lexemes are among the memories, as sampled: ``shares`` of the most common, and
    the least of those (None before the first ANALYZE)."""

    shares: dict[str, float]
    least: float | None

    def share(self, lexeme: str) -> float:
        """The sampled share; as PostgreSQL's planner does, a lexeme not sampled is taken to be half
        as common as the least common one sampled. Without statistics every lexeme counts as held
        by all (1.0), so frequency alone decides."""
        if self.least is None:
            return 1.0
        return self.shares.get(lexeme, self.least / 2)


_lexeme_shares: dict[str, tuple[float, LexemeShares]] = {}


def lexeme_shares() -> LexemeShares:
    """The sampled lexeme shares of this database, read at most every
    ``CEREBRO_LEXEME_STATISTICS_SECONDS`` per process (they change only when ANALYZE runs; reading
    and parsing them costs more than the rest of a working set's terms)."""
    database = connection.settings_dict["NAME"]
    cached = _lexeme_shares.get(database)
    if cached is not None and cached[0] > time.monotonic():
        return cached[1]
    with connection.cursor() as cursor:
        cursor.execute(LEXEME_STATISTICS)
        row = cursor.fetchone()
    if row is None or not row[0] or not row[1]:
        found = LexemeShares(shares={}, least=None)
    else:
        lexemes, frequencies = row
        found = LexemeShares(shares=dict(zip(lexemes, frequencies, strict=False)), least=frequencies[-3])
    _lexeme_shares[database] = (time.monotonic() + conf.LEXEME_STATISTICS_SECONDS, found)
    return found


def forget_lexeme_shares() -> None:
    """Read the statistics afresh next time (after an ANALYZE whose effect must show at once)."""
    _lexeme_shares.clear()


def conversation_lexemes_parameters(*, user_id, chat_id, text: str | None) -> dict[str, Any]:
    """The bound parameters of ``CONVERSATION_LEXEMES``."""
    return {"user": user_id, "chat": chat_id, "text": text, "messages": conf.CONTEXT_RECENT_MESSAGES}


def conversation_terms(*, user_id, chat_id, text: str | None) -> list[str]:
    """The conversation's ``CEREBRO_CONTEXT_CONVERSATION_TERMS`` most informative lexemes, weighed
    as cerebro/retrieval/text.py weighs terms, with the sampled shares of ``lexeme_shares``."""
    params = conversation_lexemes_parameters(user_id=user_id, chat_id=chat_id, text=text)
    with prepared_cursor() as cursor:
        cursor.execute(CONVERSATION_LEXEMES, params)
        counts = cursor.fetchall()
    return text_analysis.most_informative(counts, conf.CONTEXT_CONVERSATION_TERMS, lexeme_shares().share)


_ELIGIBLE = f"m.user_id = %(user)s AND {_NOT_SECRET} AND {_LIVE}"
_POOL_COLUMNS = "m.id, m.layer, m.confidence, m.updated_at"


def _listed_per_layer() -> str:
    """Per layer, the most recent and the most confident eligible memories: one lateral pass per
    layer over both lists (fewer subqueries to plan than six)."""
    layers = ", ".join(f"'{layer}'" for layer in conf.LAYER_WEIGHTS)
    lists = " UNION ALL ".join(
        f"(SELECT {_POOL_COLUMNS}, '{name}' AS list FROM cerebro_memory m"
        f" WHERE {_ELIGIBLE} AND m.layer = layers.layer ORDER BY {order} LIMIT %(per_list)s)"
        for name, order in LIST_ORDERS.items()
    )
    return f"SELECT listed.* FROM unnest(ARRAY[{layers}]::text[]) AS layers(layer), LATERAL ({lists}) listed"


def _layer_weight_of(column: str) -> str:
    cases = " ".join(f"WHEN '{layer}' THEN {weight!r}" for layer, weight in conf.LAYER_WEIGHTS.items())
    return f"(CASE {column} {cases} ELSE 0 END)::float8"


def _recency_of(column: str) -> str:
    # date_part gives float8 (EXTRACT gives numeric, slower per row).
    return f"power(0.5, GREATEST(%(now_epoch)s - date_part('epoch', {column}), 0) / 3600.0 / %(half_life)s)"


def _score(relevance: str, layer: str, confidence: str, recency: str) -> str:
    weights = conf.CONTEXT_WEIGHTS
    return (
        f"{weights['relevance']!r} * {relevance} + {weights['layer']!r} * {layer}"
        f" + {weights['confidence']!r} * {confidence} + {weights['recency']!r} * {recency}"
    )


def _working_set_statement() -> str:
    # matches: every memory holding one of the conversation's terms (%(terms)s, conversation_terms'
    #   lexemes), ranked: one index-only scan of cerebro_memoryterm_lookup, whose rows are kept for
    #   every memory the working set may show (migration 0011). A memory's rank is its ts_rank
    #   against those terms times their number, which relevance (rank over the best rank) cancels.
    # listed: per layer, the most recent and the most confident (matching or not); outside: those
    #   of them that match none of the terms. The pool is matches and outside, scored in one pass
    #   (the best rank read once from best, not by a window over the pool).
    # bound: the best score a memory in neither could have (NULL when the lists hold them all).
    # The candidates come back with what the answer shows of them.
    return f"""
        WITH matches AS MATERIALIZED (
            SELECT t.memory_id AS id, t.layer, t.confidence, t.updated_at, sum(t.weight) AS rank
            FROM cerebro_memoryterm t
            WHERE t.user_id = %(user)s AND t.lexeme = ANY(%(terms)s::text[])
              AND (t.expires_at IS NULL OR t.expires_at > %(now)s)
            GROUP BY t.memory_id, t.layer, t.confidence, t.updated_at
        ), listed AS MATERIALIZED (
            {_listed_per_layer()}
        ), outside AS MATERIALIZED (
            SELECT DISTINCT id, layer, confidence, updated_at FROM listed
            WHERE id NOT IN (SELECT id FROM matches)
        ), best AS MATERIALIZED (
            SELECT max(rank) AS rank, count(*) AS matched FROM matches
        ), parts AS (
            SELECT id, layer, confidence, COALESCE(rank / NULLIF((SELECT rank FROM best), 0), 0)::float8 AS relevance,
                   {_layer_weight_of("layer")} AS layer_weight, {_recency_of("updated_at")} AS recency
            FROM matches
            UNION ALL
            SELECT id, layer, confidence, 0::float8, {_layer_weight_of("layer")}, {_recency_of("updated_at")}
            FROM outside
        ), candidates AS (
            SELECT parts.*, {_score("relevance", "layer_weight", "confidence", "recency")} AS score
            FROM parts ORDER BY score DESC, id LIMIT %(candidates)s
        ), bound AS (
            SELECT max({_score("0", _layer_weight_of("layer"), "confidence_cap", _recency_of("written_cap"))}) AS value
            FROM (
                SELECT layer, count(*) FILTER (WHERE list = 'confident') AS listed,
                       min(confidence) FILTER (WHERE list = 'confident') AS confidence_cap,
                       min(updated_at) FILTER (WHERE list = 'recent') AS written_cap
                FROM listed GROUP BY layer
            ) per_layer
            WHERE listed >= %(per_list)s
        )
        SELECT c.id::text, m.key, c.layer, c.confidence, m.token_count, c.relevance, c.layer_weight,
               c.recency, c.score, m.sensitivity, m.content::text, m.created_at::text,
               (SELECT matched FROM best) + (SELECT count(*) FROM outside), (SELECT value FROM bound)
        FROM candidates c JOIN cerebro_memory m ON m.id = c.id
        ORDER BY c.score DESC, c.id
    """


WORKING_SET = _working_set_statement()


def working_set_parameters(
    *, user_id, terms: Sequence[str], now: datetime, per_list: int, limit: int
) -> dict[str, Any]:
    """The bound parameters of ``WORKING_SET``."""
    return {
        "user": user_id,
        "terms": list(terms),
        "now": now,
        "now_epoch": now.timestamp(),
        "half_life": conf.RECENCY_HALF_LIFE_HOURS,
        "per_list": per_list,
        "candidates": limit,
    }


@dataclass
class WorkingSetRows:
    ranking: Ranking
    # The statement's row of each candidate, by id (``displayed_memory`` reads what an entry shows).
    rows: dict[str, tuple]


def working_set(*, user_id, terms: Sequence[str], now: datetime, per_list: int, limit: int) -> WorkingSetRows:
    """The working set's candidates on PostgreSQL, in one statement: the pool of
    cerebro/retrieval/working_set.py for the conversation's ``terms`` (``conversation_terms``),
    scored in the database, and the best ``limit`` (best first) with what the answer shows of them.
    """
    params = working_set_parameters(user_id=user_id, terms=terms, now=now, per_list=per_list, limit=limit)
    with prepared_cursor() as cursor:
        cursor.execute(WORKING_SET, params)
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
    pool_size, bound = (rows[0][12], rows[0][13]) if rows else (0, None)
    ranking = summarise(candidates, pool_size=pool_size, per_list=per_list, bound=bound, limit=limit)
    return WorkingSetRows(ranking=ranking, rows={row[0]: row for row in rows})


class DisplayedMemory(NamedTuple):
    """What a working-set entry shows of a memory (read by ``context_memory_json`` and the chat's
    system prompt as they read a Memory), from its row of ``WORKING_SET``: never a ``secret`` or
    ``pii`` memory, so its content is never encrypted."""

    pk: str
    key: str
    layer: str
    sensitivity: str
    content: Any
    confidence: float
    created_at: datetime

    @property
    def id(self) -> str:
        return self.pk

    @property
    def is_encrypted(self) -> bool:
        return self.sensitivity in ENCRYPTED_SENSITIVITIES


def displayed_memory(row: tuple) -> DisplayedMemory:
    """What a working-set entry shows, from its row of ``WORKING_SET``."""
    return DisplayedMemory(
        pk=row[0],
        key=row[1],
        layer=row[2],
        sensitivity=row[9],
        content=_decoded_json(row[10]),
        confidence=row[3],
        created_at=datetime.fromisoformat(row[11]),
    )
