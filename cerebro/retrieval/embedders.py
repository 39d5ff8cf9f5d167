"""Embedders turn text into vectors for RAG. Pluggable: ``CEREBRO_EMBEDDER`` names the class.

An embedder has a ``name`` and ``embed(text) -> {dimension: weight}``, a sparse vector with unit
length (so a dot product is the cosine similarity). Dense models fit the same interface (return
every dimension). The default, ``HashingEmbedder``, needs no model and no network:

- features are the text's index terms (cerebro/retrieval/text.py) and adjacent term pairs;
- each feature is hashed with CRC-32 into one of ``CEREBRO_EMBEDDING_DIMENSIONS`` (1024) buckets,
  with a sign taken from another bit of the hash so collisions tend to cancel (the hashing trick);
- weights are sublinear term frequencies (``1 + ln tf``), pairs at half weight, then the vector is
  scaled to unit length.

It is deterministic (same text, same vector, in every process) and captures lexical overlap, not
meaning; swap in a semantic model through the setting when one is available.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from functools import lru_cache
from itertools import pairwise
from typing import Protocol

from django.utils.module_loading import import_string

from cerebro import conf
from cerebro.retrieval import text as text_analysis

SparseVector = dict[int, float]


class Embedder(Protocol):
    name: str

    def embed(self, text: str) -> SparseVector: ...


class HashingEmbedder:
    name = "hashing-tf"

    def __init__(self, dimensions: int | None = None) -> None:
        self.dimensions = dimensions or conf.EMBEDDING_DIMENSIONS

    def embed(self, text: str) -> SparseVector:
        terms = text_analysis.terms(text)
        features: Counter = Counter(terms)
        pair_features = Counter(f"{a} {b}" for a, b in pairwise(terms))
        vector: dict[int, float] = {}
        for counts, weight in ((features, 1.0), (pair_features, 0.5)):
            for feature, frequency in counts.items():
                digest = zlib.crc32(feature.encode())
                index = digest % self.dimensions
                sign = 1.0 if (digest >> 31) & 1 == 0 else -1.0
                vector[index] = vector.get(index, 0.0) + sign * weight * (1.0 + math.log(frequency))
        norm = math.sqrt(sum(value * value for value in vector.values()))
        if norm == 0:
            return {}
        return {index: round(value / norm, 6) for index, value in vector.items() if value}


def cosine(a: SparseVector, b: SparseVector) -> float:
    """Dot product of two unit-length sparse vectors."""
    if len(a) > len(b):
        a, b = b, a
    return sum(value * b.get(index, 0.0) for index, value in a.items())


def from_json(stored: dict | None) -> SparseVector:
    """A vector as JSON stores it (string keys) back to ``{int: float}``."""
    return {int(index): float(value) for index, value in (stored or {}).items()}


@lru_cache(maxsize=4)
def _embedder_for(path: str) -> Embedder:
    return import_string(path)()


def get_embedder() -> Embedder:
    """The configured embedder (``CEREBRO_EMBEDDER``), built once per process."""
    return _embedder_for(conf.EMBEDDER)
