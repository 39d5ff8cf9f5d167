"""Text analysis shared by search, the working set and RAG.

``terms`` turns text into index terms: lower-cased letter/digit runs, English stop words removed,
then Snowball's English stemmer (the ``snowballstemmer`` package), the very algorithm and stop list
of PostgreSQL's ``english`` text-search configuration, so both backends index a word as the same
term (tests/cerebro/test_stemmer.py compares them with ``to_tsvector('english', ...)``). Like
PostgreSQL, a run holding a digit (``v2``, ``2026``) is kept as it is, not stemmed. This module is
what the embedded default (SQLite) ranks with, and what the hashing embedder reads on both.

The Snowball release must match the server's copy: ``snowballstemmer`` 2.2 stems as PostgreSQL 15
does; Snowball 3 changed some English stems (``added``: ``ad`` became ``add``), so a server with a
newer copy fails that test until the pin follows (docs/cerebro.md, "Stemming").

Ranking on the embedded default is Okapi BM25 (k1 = 1.2, b = 0.75) over the candidate set.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import snowballstemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_DIGIT = re.compile(r"\d")
# Distinct words remembered with their stems: a vocabulary, not a corpus, so this covers the
# words that matter and bounds the memory (about 100 bytes a word).
STEM_CACHE_SIZE = 100_000

# PostgreSQL's english stop list (share/tsearch_data/english.stop), which is Snowball's.
STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "s",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "t",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)

BM25_K1 = 1.2
BM25_B = 0.75


_stemmers = threading.local()


def _english_stemmer() -> Any:
    """This thread's Snowball English stemmer (a stemmer keeps state while it works on a word, so
    threads do not share one)."""
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return stemmer


@lru_cache(maxsize=STEM_CACHE_SIZE)
def stem(word: str) -> str:
    """The Snowball English stem of a lower-cased word (``preferences`` -> ``prefer``), as
    PostgreSQL's ``english_stem`` gives it; a word holding a digit is its own stem."""
    if _DIGIT.search(word):
        return word
    return _english_stemmer().stemWord(word)


def words(text: str) -> list[str]:
    """Lower-cased letter/digit runs of ``text`` (``user:123:theme`` -> user, 123, theme)."""
    return [w.lower() for w in _WORD.findall(text)]


def terms(text: str) -> list[str]:
    """Index terms of ``text`` in order, repeats kept (stop words dropped, stemmed)."""
    return [stem(w) for w in words(text) if w not in STOP_WORDS]


def most_informative(counts: Iterable[tuple[str, int]], limit: int, share: Callable[[str], float | None]) -> list[str]:
    """The ``limit`` most informative of the terms counted in a text (``(term, count)`` in order of
    first appearance), best first.

    A term weighs ``its count x (1 + ln(1 / share))``, ``share`` being the fraction of the documents
    searched that hold it: TF-IDF, as "more like this" queries (Lucene's among them) pick a
    document's terms. A word the conversation repeats counts more, a word most memories hold counts
    little. ``share`` is None for a term no document holds: it could match nothing and is left out.
    The first to appear wins a tie. Both backends pick the working set's terms here: the embedded
    default with exact document frequencies, PostgreSQL with its sampled lexeme statistics
    (cerebro/retrieval/memory_sql.py).
    """
    weights: dict[str, float] = {}
    for term, count in counts:
        fraction = share(term)
        if fraction is not None:
            weights[term] = count * (1 + math.log(1 / fraction))
    return sorted(weights, key=lambda term: -weights[term])[:limit]


def informative_terms(text: str, limit: int, share: Callable[[str], float | None]) -> list[str]:
    """The ``limit`` most informative distinct terms of ``text`` (``most_informative``)."""
    return most_informative(Counter(terms(text)).items(), limit, share)


def flatten_json_text(value: Any, limit: int = 200_000) -> str:
    """Every object key and scalar value of a JSON document, as one text (for indexing)."""
    parts: list[str] = []
    size = 0

    def walk(node: Any) -> None:
        nonlocal size
        if size > limit:
            return
        if isinstance(node, dict):
            for key, item in node.items():
                parts.append(str(key))
                size += len(str(key)) + 1
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif node is not None and not isinstance(node, bool):
            text = str(node)
            parts.append(text)
            size += len(text) + 1

    walk(value)
    return " ".join(parts)[:limit]


class Bm25:
    """BM25 scores of one query against a small in-memory corpus (the embedded default's search)."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        self.documents = [Counter(doc) for doc in documents]
        self.lengths = [len(doc) for doc in documents]
        self.average_length = (sum(self.lengths) / len(self.lengths)) if self.lengths else 0.0
        self.document_frequency: Counter = Counter()
        for counts in self.documents:
            self.document_frequency.update(counts.keys())

    def share(self, term: str) -> float | None:
        """The fraction of the documents that hold ``term`` (None when none does)."""
        df = self.document_frequency.get(term, 0)
        return df / len(self.documents) if df else None

    def idf(self, term: str) -> float:
        n = len(self.documents)
        df = self.document_frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def score(self, index: int, query: Iterable[str]) -> float:
        counts = self.documents[index]
        length_ratio = self.lengths[index] / self.average_length if self.average_length else 0.0
        total = 0.0
        for term in query:
            frequency = counts.get(term, 0)
            if frequency:
                total += (
                    self.idf(term)
                    * frequency
                    * (BM25_K1 + 1)
                    / (frequency + BM25_K1 * (1 - BM25_B + BM25_B * length_ratio))
                )
        return total

    def coverage(self, index: int, query: Sequence[str]) -> float:
        """The share of the query's terms that occur in document ``index``."""
        if not query:
            return 0.0
        counts = self.documents[index]
        return sum(1 for term in query if term in counts) / len(query)


def relevance(coverage: float, rank: float, best_rank: float) -> float:
    """Search relevance in [0, 1]: the share of query terms matched, weighted by the rank relative
    to the best hit (``coverage * (0.5 + 0.5 * rank / best_rank)``). The same formula runs on both
    backends, with PostgreSQL's ``ts_rank`` or BM25 as ``rank``."""
    if coverage <= 0 or best_rank <= 0:
        return 0.0
    return round(min(1.0, coverage * (0.5 + 0.5 * min(1.0, rank / best_rank))), 4)
