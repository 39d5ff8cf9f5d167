"""RAG: retrieval over the user's knowledge base (indexed uploads) and permanent memories.

The primary backend is vector retrieval through the configured embedder (cosine similarity of
unit-length vectors). A circuit breaker guards it: when it fails, or the breaker is open, the
answer comes from full-text search instead and says ``degraded: true``; when that is switched off
(``CEREBRO_RAG_LEXICAL_FALLBACK=false``) or fails too, the answer is a 503. Answers are cached in
two levels (in-process, then Redis) under a key made of the user, the query, the hints, the
result count and the knowledge base's version (which every change to it renews), so a cached
answer is never stale. Degraded answers are not cached.

``secret`` and ``pii`` memories never take part.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from cerebro import conf
from cerebro.errors import RETRIEVAL_UNAVAILABLE
from cerebro.json_text import compact_json
from cerebro.models import ENCRYPTED_SENSITIVITIES, KnowledgeChunk, Layer, Memory, Upload
from cerebro.retrieval import cache as two_level_cache
from cerebro.retrieval import lexical
from cerebro.retrieval.breaker import CircuitBreaker
from cerebro.retrieval.embedders import cosine, from_json, get_embedder
from cerebro.selectors.files import download_path
from cerebro.selectors.memory import live

logger = logging.getLogger(__name__)

vector_breaker = CircuitBreaker("rag-vector")
MAX_LEXICAL_WORDS = 16


@dataclass(frozen=True)
class RagResult:
    content: str
    source: str  # "vectorDB" (document chunk), "memory" (permanent memory), "lexical" (fallback)
    confidence: float
    metadata: dict[str, Any]


@dataclass(frozen=True)
class RagAnswer:
    results: list[RagResult]
    degraded: bool
    cached: bool

    def as_dict(self) -> dict:
        return {"results": [asdict(r) for r in self.results], "degraded": self.degraded, "cached": self.cached}


def retrieval_text(query: str, hints: dict) -> str:
    """What is searched for: the query, plus the ``context`` hint when one is given."""
    context = hints.get("context") if isinstance(hints, dict) else None
    return f"{query}\n{context}" if isinstance(context, str) and context.strip() else query


def _chunk_metadata(upload: Upload, ordinal: int) -> dict[str, Any]:
    return {
        "title": upload.filename,
        "url": download_path(upload),
        "fileId": str(upload.pk),
        "contentType": upload.content_type,
        "chunk": ordinal,
    }


def _permanent_memories(user):
    return live(Memory.objects.filter(user=user, layer=Layer.PERMANENT)).exclude(
        sensitivity__in=ENCRYPTED_SENSITIVITIES
    )


def _indexed_chunks(user):
    return KnowledgeChunk.objects.filter(user=user, upload__knowledge_status=Upload.KnowledgeStatus.INDEXED)


def vector_retrieve(*, user, text: str, max_results: int) -> list[RagResult]:
    """The chunks and permanent memories most similar to ``text`` (cosine >= ``CEREBRO_RAG_MIN_SCORE``)."""
    query_vector = get_embedder().embed(text)
    if not query_vector:
        return []
    scored: list[tuple[float, str, Any]] = []
    for chunk in (
        _indexed_chunks(user)
        .select_related("upload")
        .only(
            "id",
            "ordinal",
            "text",
            "embedding",
            "upload__id",
            "upload__filename",
            "upload__content_type",
            "upload__cid",
        )
    ):
        similarity = cosine(query_vector, from_json(chunk.embedding))
        if similarity >= conf.RAG_MIN_SCORE:
            scored.append((similarity, "chunk", chunk))
    for memory in _permanent_memories(user).only("id", "key", "content", "embedding", "confidence", "sensitivity"):
        similarity = cosine(query_vector, from_json(memory.embedding)) * memory.confidence
        if similarity >= conf.RAG_MIN_SCORE:
            scored.append((similarity, "memory", memory))
    scored.sort(key=lambda item: -item[0])
    results = []
    for similarity, kind, row in scored[:max_results]:
        if kind == "chunk":
            results.append(
                RagResult(
                    row.text, "vectorDB", round(min(1.0, similarity), 4), _chunk_metadata(row.upload, row.ordinal)
                )
            )
        else:
            results.append(
                RagResult(
                    compact_json(row.content),
                    "memory",
                    round(min(1.0, similarity), 4),
                    {"key": row.key, "memoryId": str(row.pk), "layer": Layer.PERMANENT},
                )
            )
    return results


def lexical_retrieve(*, user, text: str, max_results: int) -> list[RagResult]:
    """Full-text search over the same sources (the fallback); confidence is search relevance."""
    words = lexical.query_words(text, MAX_LEXICAL_WORDS)
    if not words:
        return []
    chunks = _indexed_chunks(user).select_related("upload")
    memories = _permanent_memories(user)
    if settings.USING_POSTGRES:
        chunk_hits = [(c, c.relevance) for c in lexical.rank_postgres(chunks, words, max_results)[0]]
        memory_hits = [(m, m.relevance) for m in lexical.rank_postgres(memories, words, max_results)[0]]
    else:
        chunk_hits = lexical.rank_python(list(chunks), lambda c: c.text, words, max_results)[0]
        memory_hits = lexical.rank_python(list(memories), lambda m: m.search_text, words, max_results)[0]
    results = [
        RagResult(c.text, "lexical", relevance, {**_chunk_metadata(c.upload, c.ordinal), "origin": "document"})
        for c, relevance in chunk_hits
    ] + [
        RagResult(
            compact_json(m.content),
            "lexical",
            round(relevance * m.confidence, 4),
            {"key": m.key, "memoryId": str(m.pk), "layer": Layer.PERMANENT, "origin": "memory"},
        )
        for m, relevance in memory_hits
    ]
    results.sort(key=lambda r: -r.confidence)
    return [r for r in results if r.confidence > 0][:max_results]


def _cache_key(*, user, query: str, hints: dict, max_results: int) -> str:
    version = two_level_cache.version_of(two_level_cache.knowledge_scope(user.pk))
    material = compact_json({"u": str(user.pk), "q": query, "h": hints, "n": max_results, "v": version})
    return "cerebro:rag:" + hashlib.sha256(material.encode()).hexdigest()


def rag_answer(*, user, query: str, hints: dict | None = None, max_results: int = 5) -> RagAnswer:
    """Answer a RAG query: cached, else vector retrieval, else (breaker open or failing) lexical."""
    hints = hints or {}
    key = _cache_key(user=user, query=query, hints=hints, max_results=max_results)
    cached = two_level_cache.get(key)
    if cached is not None:
        return RagAnswer(results=[RagResult(**r) for r in cached], degraded=False, cached=True)

    text = retrieval_text(query, hints)
    if vector_breaker.allow():
        try:
            results = vector_retrieve(user=user, text=text, max_results=max_results)
        except Exception:
            logger.warning("rag vector retrieval failed; falling back", exc_info=True)
            vector_breaker.record_failure()
        else:
            vector_breaker.record_success()
            two_level_cache.set(key, [asdict(r) for r in results], _cache_seconds(user))
            return RagAnswer(results=results, degraded=False, cached=False)

    if not conf.RAG_LEXICAL_FALLBACK:
        raise RETRIEVAL_UNAVAILABLE(details={"circuitBreaker": vector_breaker.state()})
    try:
        results = lexical_retrieve(user=user, text=text, max_results=max_results)
    except Exception:
        logger.warning("rag lexical fallback failed", exc_info=True)
        raise RETRIEVAL_UNAVAILABLE(details={"circuitBreaker": vector_breaker.state()}) from None
    return RagAnswer(results=results, degraded=True, cached=False)


def _cache_seconds(user) -> int:
    """How long an answer may be cached: the configured time, cut short by the next expiry of a
    permanent memory (a permanent memory may carry a ``ttlMinutes``)."""
    now = timezone.now()
    next_expiry = (
        _permanent_memories(user)
        .filter(expires_at__isnull=False)
        .order_by("expires_at")
        .values_list("expires_at", flat=True)
        .first()
    )
    if next_expiry is None:
        return conf.RAG_CACHE_SECONDS
    return max(0, min(conf.RAG_CACHE_SECONDS, int((next_expiry - now).total_seconds())))
