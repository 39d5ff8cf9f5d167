"""Lexical ranking over anything with searchable text, on PostgreSQL or in Python.

Both return ``(rows, total)``: the best ``limit`` rows, each with a ``relevance`` in [0, 1]
(``coverage * (0.5 + 0.5 * rank / best_rank)``, see cerebro/retrieval/text.py), and how many rows
matched at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, Count, F, FloatField, Max, Value, When, Window
from django.db.models.functions import Cast, NullIf

from cerebro.retrieval import text as text_analysis

SEARCH_CONFIG = "english"


def query_words(query: str, limit: int) -> list[str]:
    """Distinct non-stop words of ``query``, most frequent first (PostgreSQL stems them itself)."""
    counts: dict[str, int] = {}
    for word in text_analysis.words(query):
        if word not in text_analysis.STOP_WORDS:
            counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])[:limit]


def tsquery(words: Sequence[str], *, match_all: bool = False) -> SearchQuery:
    """Any of ``words`` (OR), or all of them, each through the english configuration."""
    queries = (SearchQuery(w, config=SEARCH_CONFIG) for w in words)
    return reduce((lambda a, b: a & b) if match_all else (lambda a, b: a | b), queries)


def rank_postgres(queryset, words: Sequence[str], limit: int, *, match_all: bool = False) -> tuple[list[Any], int]:
    """The rows of ``queryset`` whose ``search_vector`` matches any (or every) word, best first.

    One query: the GIN index finds the matches; ``ts_rank``, the matched-word count, the best
    rank (a window) and the total (another window) are computed on them only.
    """
    combined = tsquery(words, match_all=match_all)
    if match_all:
        coverage = Value(1.0)
    else:
        coverage = reduce(
            lambda a, b: a + b,
            (
                Case(When(search_vector=SearchQuery(w, config=SEARCH_CONFIG), then=Value(1.0)), default=Value(0.0))
                for w in words
            ),
        ) / Value(float(len(words)))
    rank = SearchRank(F("search_vector"), combined)
    relevance = coverage * (Value(0.5) + Value(0.5) * F("rank") / NullIf(Window(Max(rank)), Value(0.0)))
    rows = list(
        queryset.filter(search_vector=combined)
        .annotate(rank=Cast(rank, FloatField()))
        .annotate(relevance=Cast(relevance, FloatField()), total=Window(Count("pk")))
        .order_by("-relevance", "-rank", "pk")[:limit]
    )
    for row in rows:
        row.relevance = round(min(1.0, row.relevance or 0.0), 4)
    return rows, (rows[0].total if rows else 0)


def rank_python(
    items: Sequence[Any], text_of: Callable[[Any], str], words: Sequence[str], limit: int, *, match_all: bool = False
) -> tuple[list[tuple[Any, float]], int]:
    """BM25 over ``items`` (the embedded default): ``[(item, relevance)]`` best first, and the total."""
    query = list(dict.fromkeys(text_analysis.stem(w) for w in words))
    index = text_analysis.Bm25([text_analysis.terms(text_of(item)) for item in items])
    scored = []
    for position, item in enumerate(items):
        coverage = index.coverage(position, query)
        if coverage >= 1.0 if match_all else coverage > 0:
            scored.append((item, coverage, index.score(position, query)))
    best = max((rank for _, _, rank in scored), default=0.0)
    ranked = [(item, text_analysis.relevance(coverage, rank, best)) for item, coverage, rank in scored]
    ranked.sort(key=lambda pair: (-pair[1], str(getattr(pair[0], "pk", ""))))
    return ranked[:limit], len(ranked)


def rank_all_then_any(
    items: Sequence[Any], text_of: Callable[[Any], str], words: Sequence[str], limit: int
) -> tuple[list[tuple[Any, float]], int]:
    """Items containing every word, best first; when fewer than ``limit`` do, items containing some
    of the words fill the list (their coverage, hence relevance, is lower). ``total`` counts every
    item containing at least one word when that fallback ran, else the items containing all.

    The embedded default's memory search; on PostgreSQL one statement does the same
    (cerebro/retrieval/memory_sql.py). Ranking only the items that contain every word keeps a
    query with one very common word (a word every memory's key carries, say) from ranking them all.
    """
    ranked, total = rank_python(items, text_of, words, limit, match_all=True)
    if len(words) > 1 and len(ranked) < limit:
        chosen = {id(item) for item, _ in ranked}
        rest, rest_total = rank_python([i for i in items if id(i) not in chosen], text_of, words, limit - len(ranked))
        ranked += rest
        total += rest_total
    ranked.sort(key=lambda pair: (-pair[1], str(getattr(pair[0], "pk", ""))))
    return ranked, total if ranked else 0
