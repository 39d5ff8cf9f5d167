"""Reads of the layered memory: search, the working set of a chat, totals per layer.

Both run one way on PostgreSQL (full-text ranking in SQL over the trigger-maintained
``search_vector``, GIN-indexed) and one way on the embedded default (BM25 in Python over the
user's candidates, cerebro/retrieval/text.py). Scores mean the same on both; docs/cerebro.md has
the formulas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchRank
from django.db.models import Case, Count, F, FloatField, Max, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast, Coalesce, NullIf, Power
from django.utils import timezone

from cerebro import conf
from cerebro.models import ENCRYPTED_SENSITIVITIES, ChatMessage, Layer, Memory
from cerebro.retrieval import lexical
from cerebro.retrieval import text as text_analysis
from cerebro.services.memory import live

MAX_QUERY_TERMS = 8
MAX_CONVERSATION_TERMS = 12


# --- search -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    memory: Memory
    relevance: float


@dataclass(frozen=True)
class SearchPage:
    hits: list[SearchHit]
    total: int


def _filtered(*, user, layer: str | None, tags: list[str] | None, min_confidence: float | None, now: datetime):
    memories = live(Memory.objects.filter(user=user), now)
    if layer:
        memories = memories.filter(layer=layer)
    if min_confidence is not None:
        memories = memories.filter(confidence__gte=min_confidence)
    if tags and settings.USING_POSTGRES:
        memories = memories.filter(tags__contains=tags)  # jsonb @>, GIN-indexed
    return memories


def _has_tags(memory_tags: list[str], wanted: list[str] | None) -> bool:
    return not wanted or set(wanted) <= set(memory_tags)


def memory_search(
    *,
    user,
    query: str = "",
    layer: str | None = None,
    tags: list[str] | None = None,
    min_confidence: float | None = None,
    limit: int = 10,
) -> SearchPage:
    """The user's live memories matching the filters, best first, with relevance in [0, 1].

    Every memory must carry all ``tags``. Without a query every match scores 1.0 and the most
    recently updated come first. Relevance is
    ``coverage * (0.5 + 0.5 * rank / best_rank)``: the share of query words the memory contains,
    weighted by its full-text rank against the best hit's.
    """
    now = timezone.now()
    memories = _filtered(user=user, layer=layer, tags=tags, min_confidence=min_confidence, now=now)
    words = lexical.query_words(query, MAX_QUERY_TERMS)
    if not words:
        if settings.USING_POSTGRES:
            total = memories.count()
            rows = list(memories.order_by("-updated_at", "pk")[:limit])
        else:
            matching = [m for m in memories.order_by("-updated_at", "pk") if _has_tags(m.tags, tags)]
            total, rows = len(matching), matching[:limit]
        return SearchPage(hits=[SearchHit(m, 1.0) for m in rows], total=total)
    if settings.USING_POSTGRES:
        return _search_postgres(memories, words, limit)
    return _search_python(memories, words, tags, limit)


def _search_postgres(memories, words: list[str], limit: int) -> SearchPage:
    rows, total = lexical.rank_all_then_any(memories, words, limit)
    return SearchPage(hits=[SearchHit(m, m.relevance) for m in rows], total=total)


def _search_python(memories, words: list[str], tags: list[str] | None, limit: int) -> SearchPage:
    candidates = [m for m in memories if _has_tags(m.tags, tags)]
    ranked, total = lexical.rank_all_then_any(candidates, words, limit, python_text_of=lambda m: m.search_text)
    return SearchPage(hits=[SearchHit(m, m.relevance) for m in ranked], total=total)


# --- working set ------------------------------------------------------------------------------


@dataclass
class Candidate:
    id: Any
    key: str
    layer: str
    confidence: float
    token_count: int
    relevance: float
    layer_weight: float
    recency: float
    score: float
    decision: str = "cut"
    reason: str = ""


@dataclass
class WorkingSet:
    memories: list[Memory]
    total_tokens: int
    max_tokens: int
    candidates: list[Candidate] = field(default_factory=list)
    conversation_terms: list[str] = field(default_factory=list)
    excluded_sensitive: int = 0
    candidates_considered: int = 0


def conversation_text(*, user, chat_id, limit: int = conf.CONTEXT_RECENT_MESSAGES) -> str:
    """The text of the chat's most recent messages ('' for an unknown or another user's chat)."""
    if chat_id is None:
        return ""
    recent = ChatMessage.objects.filter(chat_id=chat_id, chat__user=user).order_by("-created_at")[:limit]
    return "\n".join(message.content for message in recent)


def _recency(updated_at: datetime, now: datetime) -> float:
    age_hours = max(0.0, (now - updated_at).total_seconds() / 3600)
    return math.pow(0.5, age_hours / conf.RECENCY_HALF_LIFE_HOURS)


def _score(relevance: float, layer_weight: float, confidence: float, recency: float) -> float:
    weights = conf.CONTEXT_WEIGHTS
    return (
        weights["relevance"] * relevance
        + weights["layer"] * layer_weight
        + weights["confidence"] * confidence
        + weights["recency"] * recency
    )


def memory_working_set(*, user, chat_id=None, max_tokens: int, conversation: str | None = None) -> WorkingSet:
    """The memories to put in front of a model for this chat, within ``max_tokens``.

    Candidates are the user's live memories except ``secret`` and ``pii`` ones (never part of a
    working set). Each gets ``score = 0.45 relevance + 0.2 layer + 0.2 confidence + 0.15 recency``
    (relevance to the chat's recent messages relative to the best candidate; layer weight context
    1.0, permanent 0.8, temporary 0.6; recency halves every 24 hours since the last update). The
    best ``CEREBRO_CONTEXT_CANDIDATES`` are taken greedily, best first: each is kept when its
    tokens fit in what is left of the budget, cut otherwise.
    """
    now = timezone.now()
    text = conversation if conversation is not None else conversation_text(user=user, chat_id=chat_id)
    memories = live(Memory.objects.filter(user=user), now).exclude(sensitivity__in=ENCRYPTED_SENSITIVITIES)
    if settings.USING_POSTGRES:
        words = lexical.query_words(text, MAX_CONVERSATION_TERMS)
        candidates = _candidates_postgres(memories, words, now)
    else:
        words = text_analysis.query_terms(text, MAX_CONVERSATION_TERMS)
        candidates = _candidates_python(memories, words, now)
    kept_ids, remaining = [], max_tokens
    for candidate in candidates:
        if candidate.token_count <= remaining:
            candidate.decision, candidate.reason = "kept", f"fits: {candidate.token_count} of {remaining} tokens left"
            remaining -= candidate.token_count
            kept_ids.append(candidate.id)
        else:
            candidate.reason = f"over budget: needs {candidate.token_count} tokens, {remaining} left"
    by_id = {m.pk: m for m in Memory.objects.filter(pk__in=kept_ids)}
    kept = [by_id[pk] for pk in kept_ids if pk in by_id]
    return WorkingSet(
        memories=kept,
        total_tokens=max_tokens - remaining,
        max_tokens=max_tokens,
        candidates=candidates,
        conversation_terms=words,
    )


def working_set_exclusions(*, user) -> int:
    """How many live memories are kept out of every working set for their sensitivity."""
    return live(Memory.objects.filter(user=user, sensitivity__in=ENCRYPTED_SENSITIVITIES)).count()


LAYER_WEIGHT_SQL = Case(
    *[When(layer=layer, then=Value(weight)) for layer, weight in conf.LAYER_WEIGHTS.items()],
    default=Value(0.0),
    output_field=FloatField(),
)


def _candidates_postgres(memories, words: list[str], now: datetime) -> list[Candidate]:
    weights = conf.CONTEXT_WEIGHTS
    if words:
        query = lexical.tsquery(words)
        rank = Case(When(search_vector=query, then=SearchRank(F("search_vector"), query)), default=Value(0.0))
        relevance = Coalesce(F("rank") / NullIf(Window(Max(rank)), Value(0.0)), Value(0.0))
    else:
        rank, relevance = Value(0.0), Value(0.0)
    age_hours = RawSQL(
        # float8: EXTRACT gives numeric, and power() on numeric is ~10x slower per row.
        "GREATEST(EXTRACT(EPOCH FROM (%s::timestamptz - updated_at))::float8, 0) / 3600.0",
        (now,),
    )
    recency = Power(Value(0.5), age_hours / Value(conf.RECENCY_HALF_LIFE_HOURS))
    rows = (
        memories.annotate(rank=Cast(rank, FloatField()))
        .annotate(
            relevance_part=Cast(relevance, FloatField()),
            layer_part=LAYER_WEIGHT_SQL,
            recency_part=Cast(recency, FloatField()),
        )
        .annotate(
            score=Value(weights["relevance"]) * F("relevance_part")
            + Value(weights["layer"]) * F("layer_part")
            + Value(weights["confidence"]) * F("confidence")
            + Value(weights["recency"]) * F("recency_part")
        )
        .order_by("-score", "pk")
        .values_list(
            "pk", "key", "layer", "confidence", "token_count", "relevance_part", "layer_part", "recency_part", "score"
        )[: conf.CONTEXT_CANDIDATES]
    )
    return [
        Candidate(
            id=pk,
            key=key,
            layer=layer,
            confidence=confidence,
            token_count=tokens,
            relevance=round(relevance_value, 4),
            layer_weight=layer_weight,
            recency=round(recency_value, 4),
            score=round(score, 4),
        )
        for pk, key, layer, confidence, tokens, relevance_value, layer_weight, recency_value, score in rows
    ]


def _candidates_python(memories, query: list[str], now: datetime) -> list[Candidate]:
    rows = list(memories.values_list("pk", "key", "layer", "confidence", "token_count", "updated_at", "search_text"))
    index = text_analysis.Bm25([text_analysis.terms(row[6]) for row in rows]) if query else None
    ranks = [index.score(position, query) for position in range(len(rows))] if index else [0.0] * len(rows)
    best = max(ranks, default=0.0)
    candidates = []
    for (pk, key, layer, confidence, tokens, updated_at, _), rank in zip(rows, ranks, strict=True):
        relevance = rank / best if best > 0 else 0.0
        layer_weight = conf.LAYER_WEIGHTS.get(layer, 0.0)
        recency = _recency(updated_at, now)
        candidates.append(
            Candidate(
                id=pk,
                key=key,
                layer=layer,
                confidence=confidence,
                token_count=tokens,
                relevance=round(relevance, 4),
                layer_weight=layer_weight,
                recency=round(recency, 4),
                score=round(_score(relevance, layer_weight, confidence, recency), 4),
            )
        )
    candidates.sort(key=lambda c: (-c.score, str(c.id)))
    return candidates[: conf.CONTEXT_CANDIDATES]


# --- totals -----------------------------------------------------------------------------------


def memory_totals_by_layer() -> dict[str, int]:
    """Live memories per layer, over every user (the metrics endpoint)."""
    counts = dict.fromkeys(Layer.values, 0)
    for row in live(Memory.objects.all()).order_by().values("layer").annotate(n=Count("pk")):
        counts[row["layer"]] = row["n"]
    return counts
