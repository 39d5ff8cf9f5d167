"""The working set's ranking: which memories are scored, the score, and the token budget.

A chat's working set is chosen in three steps (docs/cerebro.md, "Working set"):

1. **Pool.** Scoring every live memory of a user costs time in proportion to their number, so a
   bounded pool is scored: every memory that holds one of the conversation's terms (the full-text
   index finds them, and relevance needs their rank anyway), and, in each layer, the ``per_list``
   most recently written and the ``per_list`` most confident. On PostgreSQL the whole
   ranking is one statement (cerebro/retrieval/memory_sql.py: the GIN index, then one short scan
   of a partial index per list); on the embedded default ``pool_of`` builds the same pool in Python.
2. **Score.** ``score = 0.45 relevance + 0.20 layer + 0.20 confidence + 0.15 recency`` for every
   pooled memory; the best ``CEREBRO_CONTEXT_CANDIDATES`` are the candidates.
3. **Budget.** Candidates are taken greedily, best first, while their tokens fit.

A memory left out of the pool holds no term of the conversation (relevance 0), and in its layer it
is neither more recent than the recent list's last entry nor more confident than the confident
list's, so it scores at most ``outside_bound``. When the last candidate scores at least that, the
candidates are exactly those an unbounded ranking would pick (``exact``); ``explain`` reports both.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from cerebro import conf


class PoolRow(NamedTuple):
    """What scoring needs of one memory; ``rank`` is its full-text rank against the conversation,
    0 when it holds none of the conversation's terms."""

    id: Any
    key: str
    layer: str
    confidence: float
    token_count: int
    updated_at: datetime
    rank: float


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
    score: float  # rounded for display, as are relevance and recency
    exact_score: float = 0.0
    decision: str = "cut"
    reason: str = ""


@dataclass(frozen=True)
class PoolSummary:
    """How the pool was bounded: its size, the length of each list, the best score a memory left
    out of it could have (None when nothing was left out), and whether the candidates are therefore
    exactly those of an unbounded ranking."""

    size: int
    per_list: int
    outside_bound: float | None
    exact: bool


@dataclass
class Ranking:
    candidates: list[Candidate] = field(default_factory=list)
    pool: PoolSummary | None = None


def recency(updated_at: datetime, now: datetime) -> float:
    """1.0 when just written, halving every ``CEREBRO_RECENCY_HALF_LIFE_HOURS`` (24 h)."""
    age_hours = max(0.0, (now - updated_at).total_seconds() / 3600)
    return math.pow(0.5, age_hours / conf.RECENCY_HALF_LIFE_HOURS)


def score(relevance: float, layer_weight: float, confidence: float, recency_part: float) -> float:
    weights = conf.CONTEXT_WEIGHTS
    return (
        weights["relevance"] * relevance
        + weights["layer"] * layer_weight
        + weights["confidence"] * confidence
        + weights["recency"] * recency_part
    )


# The lists' orders, each with the id as the last tie-break (the SQL orders the same way).
def _by_recent(row: PoolRow):
    return (-row.updated_at.timestamp(), -row.confidence, str(row.id))


def _by_confident(row: PoolRow):
    return (-row.confidence, -row.updated_at.timestamp(), str(row.id))


def pool_of(rows: Iterable[PoolRow], per_list: int, now: datetime) -> tuple[list[PoolRow], float | None]:
    """The pool out of every candidate memory (the embedded default, which ranks them all anyway),
    as the PostgreSQL statement reads it from its indexes, and the best score a memory left out of
    it could have (None when nothing was left out).

    A memory left out holds no term of the conversation (relevance 0), and in its layer it is
    neither more confident than the confident list's last entry nor more recent than the recent
    list's; a layer whose lists are not full is pooled whole.
    """
    rows = list(rows)
    chosen = {row.id: row for row in rows if row.rank > 0}
    bound = None
    for layer, layer_weight in conf.LAYER_WEIGHTS.items():
        in_layer = [row for row in rows if row.layer == layer]
        recent = sorted(in_layer, key=_by_recent)[:per_list]
        confident = sorted(in_layer, key=_by_confident)[:per_list]
        for row in (*recent, *confident):
            chosen.setdefault(row.id, row)
        if len(confident) >= per_list:
            layer_bound = score(0.0, layer_weight, confident[-1].confidence, recency(recent[-1].updated_at, now))
            bound = layer_bound if bound is None else max(bound, layer_bound)
    return list(chosen.values()), bound


def rank_pool(pool: Sequence[PoolRow], *, bound: float | None, per_list: int, now: datetime, limit: int) -> Ranking:
    """Score the pool in Python (the embedded default); the best ``limit`` candidates."""
    best_rank = max((row.rank for row in pool), default=0.0)
    candidates = []
    for row in pool:
        relevance = row.rank / best_rank if best_rank > 0 else 0.0
        layer_weight = conf.LAYER_WEIGHTS.get(row.layer, 0.0)
        recency_part = recency(row.updated_at, now)
        total = score(relevance, layer_weight, row.confidence, recency_part)
        candidates.append(
            Candidate(
                id=row.id,
                key=row.key,
                layer=row.layer,
                confidence=row.confidence,
                token_count=row.token_count,
                relevance=round(relevance, 4),
                layer_weight=layer_weight,
                recency=round(recency_part, 4),
                score=round(total, 4),
                exact_score=total,
            )
        )
    candidates.sort(key=lambda c: (-c.exact_score, str(c.id)))
    return summarise(candidates[:limit], pool_size=len(pool), per_list=per_list, bound=bound, limit=limit)


def summarise(
    candidates: list[Candidate], *, pool_size: int, per_list: int, bound: float | None, limit: int
) -> Ranking:
    """The ranking with its pool summary: exact when nothing was left out of the pool, or when
    the pool filled every candidate place with scores no left-out memory could beat."""
    exact = bound is None or (len(candidates) == limit and candidates[-1].exact_score >= bound)
    summary = PoolSummary(
        size=pool_size, per_list=per_list, outside_bound=None if bound is None else round(bound, 4), exact=exact
    )
    return Ranking(candidates=candidates, pool=summary)


def candidate_limits(max_tokens: int, *, widest: bool = False) -> tuple[int, int]:
    """How many candidates to score for a budget of ``max_tokens``, and the length of each pool
    list: one candidate per ``CEREBRO_CONTEXT_TOKENS_PER_CANDIDATE`` tokens of the budget, at least
    ``CEREBRO_CONTEXT_MIN_CANDIDATES`` and at most ``CEREBRO_CONTEXT_CANDIDATES`` (``widest``: the
    most), the lists keeping their configured proportion to the candidates."""
    wanted = conf.CONTEXT_CANDIDATES if widest else math.ceil(max_tokens / conf.CONTEXT_TOKENS_PER_CANDIDATE)
    limit = min(conf.CONTEXT_CANDIDATES, max(conf.CONTEXT_MIN_CANDIDATES, wanted))
    per_list = max(1, math.ceil(limit * conf.CONTEXT_POOL / conf.CONTEXT_CANDIDATES))
    return limit, per_list


def ran_out_of_candidates(ranking: Ranking, kept: Sequence[Any], limit: int) -> bool:
    """Whether the budget took every one of ``limit`` candidates while more could be scored: the
    memories were smaller than the estimate, and a wider ranking would fill the budget further."""
    return limit < conf.CONTEXT_CANDIDATES and len(ranking.candidates) == limit and len(kept) == limit


def select_within_budget(candidates: Sequence[Candidate], max_tokens: int) -> tuple[list[Any], int]:
    """Take candidates greedily, best first, while their tokens fit; marks each kept or cut.
    Returns the kept ids in order and the tokens they use."""
    kept, remaining = [], max_tokens
    for candidate in candidates:
        if candidate.token_count <= remaining:
            candidate.decision, candidate.reason = "kept", f"fits: {candidate.token_count} of {remaining} tokens left"
            remaining -= candidate.token_count
            kept.append(candidate.id)
        else:
            candidate.reason = f"over budget: needs {candidate.token_count} tokens, {remaining} left"
    return kept, max_tokens - remaining
