"""Reads of the layered memory: search, the working set of a chat, totals per layer.

On PostgreSQL both are one SQL statement each (cerebro/retrieval/memory_sql.py): full-text ranking
over the trigger-maintained ``search_vector`` (GIN-indexed), and for the working set a pool bounded
by index scans. On the embedded default (SQLite) they rank in Python: BM25 over the user's
candidates (cerebro/retrieval/text.py). Scores mean the same on both, and the working set is chosen
by the same code (cerebro/retrieval/working_set.py); docs/cerebro.md has the formulas.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db.models import Count, Q
from django.utils import timezone

from cerebro import conf
from cerebro.models import ENCRYPTED_SENSITIVITIES, ChatMessage, Layer, Memory
from cerebro.retrieval import lexical, memory_sql
from cerebro.retrieval import text as text_analysis
from cerebro.retrieval import working_set as ranking
from cerebro.retrieval.working_set import Candidate, PoolRow, PoolSummary

MAX_QUERY_TERMS = 8

# What the memory endpoints answer with: everything but the embedding and the search text.
OUTPUT_FIELDS = memory_sql.OUTPUT_COLUMNS


def live(queryset, now: datetime | None = None):
    """Only memories that have not expired."""
    now = now or timezone.now()
    return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


# --- search -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchHit:
    memory: Memory | memory_sql.FoundMemory  # either reads as memory_json reads it
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
    weighted by its full-text rank against the best hit's. Memories holding every word come first;
    memories holding some fill the list only when fewer than ``limit`` hold them all.
    """
    now = timezone.now()
    words = lexical.query_words(query, MAX_QUERY_TERMS)
    if words and settings.USING_POSTGRES:
        rows, total = memory_sql.search(
            user_id=user.pk, words=words, now=now, limit=limit, layer=layer, min_confidence=min_confidence, tags=tags
        )
        return SearchPage(hits=[SearchHit(m, m.relevance) for m in rows], total=total)
    memories = _filtered(user=user, layer=layer, tags=tags, min_confidence=min_confidence, now=now)
    if not words:
        if settings.USING_POSTGRES:
            total = memories.count()
            rows = list(memories.only(*OUTPUT_FIELDS).order_by("-updated_at", "pk")[:limit])
        else:
            matching = [m for m in memories.order_by("-updated_at", "pk") if _has_tags(m.tags, tags)]
            total, rows = len(matching), matching[:limit]
        return SearchPage(hits=[SearchHit(m, 1.0) for m in rows], total=total)
    candidates = [m for m in memories.only(*OUTPUT_FIELDS, "search_text") if _has_tags(m.tags, tags)]
    ranked, total = lexical.rank_all_then_any(candidates, lambda m: m.search_text, words, limit)
    return SearchPage(hits=[SearchHit(m, relevance) for m, relevance in ranked], total=total)


# --- working set ------------------------------------------------------------------------------


@dataclass
class WorkingSet:
    memories: Sequence[Memory | memory_sql.DisplayedMemory]
    total_tokens: int
    max_tokens: int
    candidates: list[Candidate] = field(default_factory=list)
    conversation_terms: list[str] = field(default_factory=list)
    pool: PoolSummary | None = None


def conversation_text(*, user, chat_id, limit: int = conf.CONTEXT_RECENT_MESSAGES) -> str:
    """The text of the chat's most recent messages ('' for an unknown or another user's chat)."""
    if chat_id is None:
        return ""
    recent = ChatMessage.objects.filter(chat_id=chat_id, chat__user=user).order_by("-created_at")[:limit]
    return "\n".join(recent.values_list("content", flat=True))


def memory_working_set(*, user, chat_id=None, max_tokens: int, conversation: str | None = None) -> WorkingSet:
    """The memories to put in front of a model for this chat, within ``max_tokens``.

    Candidates are the user's live memories except ``secret`` and ``pii`` ones (never part of a
    working set), bounded to a pool: every memory holding one of the most informative terms of the
    chat's recent messages (TF-IDF), and in each layer the most recently written and as many of
    the most confident (cerebro/retrieval/working_set.py). Each pooled memory gets
    ``score = 0.45 relevance + 0.2 layer + 0.2 confidence + 0.15 recency`` (relevance to the
    chat's recent messages relative to the best match; layer weight context 1.0, permanent 0.8,
    temporary 0.6; recency halves every 24 hours since the last update). The best candidates, one
    per ``CEREBRO_CONTEXT_TOKENS_PER_CANDIDATE`` tokens of the budget, are taken greedily, best
    first: each is kept when its tokens fit in what is left of the budget, cut otherwise. When the
    budget takes them all, the ranking runs once more with the most candidates.
    """
    now = timezone.now()
    ranker = _postgres_ranker if settings.USING_POSTGRES else _python_ranker
    rank = ranker(user=user, chat_id=chat_id, conversation=conversation, now=now)
    limit, per_list = ranking.candidate_limits(max_tokens)
    found = rank(limit=limit, per_list=per_list)
    kept_ids, total_tokens = ranking.select_within_budget(found.ranking.candidates, max_tokens)
    if ranking.ran_out_of_candidates(found.ranking, kept_ids, limit):
        limit, per_list = ranking.candidate_limits(max_tokens, widest=True)
        found = rank(limit=limit, per_list=per_list)
        kept_ids, total_tokens = ranking.select_within_budget(found.ranking.candidates, max_tokens)
    return WorkingSet(
        memories=found.memories_of(kept_ids),
        total_tokens=total_tokens,
        max_tokens=max_tokens,
        candidates=found.ranking.candidates,
        conversation_terms=found.terms,
        pool=found.ranking.pool,
    )


@dataclass
class _Ranked:
    ranking: ranking.Ranking
    terms: list[str]
    memories_of: Callable[[list], Sequence[Memory | memory_sql.DisplayedMemory]]


# A ranker reads the conversation and the user's memories once, then ranks for a number of
# candidates (and again for more, should the budget take them all).
_Rank = Callable[..., _Ranked]


def _postgres_ranker(*, user, chat_id, conversation: str | None, now: datetime) -> _Rank:
    terms = memory_sql.conversation_terms(user_id=user.pk, chat_id=chat_id, text=conversation)

    def rank(*, limit: int, per_list: int) -> _Ranked:
        found = memory_sql.working_set(user_id=user.pk, terms=terms, now=now, per_list=per_list, limit=limit)
        return _Ranked(
            ranking=found.ranking,
            terms=terms,
            memories_of=lambda ids: [memory_sql.displayed_memory(found.rows[pk]) for pk in ids],
        )

    return rank


def _python_ranker(*, user, chat_id, conversation: str | None, now: datetime) -> _Rank:
    """The embedded default: every candidate ranked by BM25 against the conversation's terms."""
    text = conversation if conversation is not None else conversation_text(user=user, chat_id=chat_id)
    memories = live(Memory.objects.filter(user=user), now).exclude(sensitivity__in=ENCRYPTED_SENSITIVITIES)
    rows = list(memories.values_list("pk", "key", "layer", "confidence", "token_count", "updated_at", "search_text"))
    index = text_analysis.Bm25([text_analysis.terms(row[6]) for row in rows])
    terms = text_analysis.informative_terms(text, conf.CONTEXT_CONVERSATION_TERMS, index.share)
    scored = [PoolRow(*row[:6], index.score(position, terms) if terms else 0.0) for position, row in enumerate(rows)]

    def memories_of(ids: list) -> list[Memory]:
        by_id = {str(m.pk): m for m in Memory.objects.filter(pk__in=ids).only(*OUTPUT_FIELDS)} if ids else {}
        return [by_id[str(pk)] for pk in ids if str(pk) in by_id]

    def rank(*, limit: int, per_list: int) -> _Ranked:
        pool, bound = ranking.pool_of(scored, per_list, now)
        ranked = ranking.rank_pool(pool, bound=bound, per_list=per_list, now=now, limit=limit)
        return _Ranked(ranking=ranked, terms=terms, memories_of=memories_of)

    return rank


def working_set_exclusions(*, user) -> int:
    """How many live memories are kept out of every working set for their sensitivity."""
    return live(Memory.objects.filter(user=user, sensitivity__in=ENCRYPTED_SENSITIVITIES)).count()


# --- totals -----------------------------------------------------------------------------------


def memory_totals_by_layer() -> dict[str, int]:
    """Live memories per layer, over every user (the metrics endpoint)."""
    counts = dict.fromkeys(Layer.values, 0)
    for row in live(Memory.objects.all()).order_by().values("layer").annotate(n=Count("pk")):
        counts[row["layer"]] = row["n"]
    return counts
