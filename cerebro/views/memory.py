"""The memory endpoints (CEREBRO) under /cerebro/api/memory/."""

from __future__ import annotations

import time

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from cerebro import conf, metrics
from cerebro.api import CerebroApiView, StaffOnly
from cerebro.errors import (
    FORCE_NEEDS_ADMIN,
    KEY_IN_OTHER_LAYER,
    MEMORY_NOT_FOUND,
    PROMOTION_REFUSED,
    RETRIEVAL_UNAVAILABLE,
)
from cerebro.selectors import memory as memory_selectors
from cerebro.selectors.metrics import memory_metrics
from cerebro.selectors.rag import rag_answer
from cerebro.serializers import memory as s
from cerebro.services import memory as memory_services
from core.openapi import raises
from core.parsers import JsonParser
from core.views import validated


class MemoryApiView(CerebroApiView):
    """Times every answer for the metrics endpoint's rolling latency window."""

    parser_classes = [JsonParser]

    def dispatch(self, request, *args, **kwargs):
        started = time.perf_counter()
        response = super().dispatch(request, *args, **kwargs)
        metrics.record_latency((time.perf_counter() - started) * 1000)
        return response


class UpsertView(MemoryApiView):
    @extend_schema(
        operation_id="memory_upsert",
        summary="Create or update a memory",
        description=(
            "Keys are unique per user across layers: a key living in another layer is a 409. Each write "
            "restarts the layer's time to live (context 15 min, temporary 10080 min, permanent none) unless "
            "`ttlMinutes` overrides it. `secret` and `pii` content is stored encrypted. On an update, `layer`, "
            "`confidence`, `sensitivity` and `tags` left out keep the memory's values."
        ),
        request=s.UpsertInput,
        responses={200: s.MemoryEnvelope},
    )
    @raises(KEY_IN_OTHER_LAYER)
    def post(self, request):
        data = validated(s.UpsertInput, request.data)
        result = memory_services.memory_upsert(
            user=request.user,
            key=data["key"],
            content=data["content"],
            layer=data.get("layer"),
            confidence=data.get("confidence"),
            sensitivity=data.get("sensitivity"),
            ttl_minutes=data.get("ttlMinutes"),
            tags=data.get("tags"),
        )
        return Response({"memory": s.MemoryOutput(result.memory).data})


class PromoteView(MemoryApiView):
    @extend_schema(
        operation_id="memory_promote",
        summary="Promote a memory from temporary to permanent",
        description=(
            "Rules without `force`: the memory is in the temporary layer and its confidence is at least "
            f"{conf.PROMOTE_MIN_CONFIDENCE} (CEREBRO_PROMOTE_MIN_CONFIDENCE); otherwise 400 with the rules "
            "not met. `force` skips the rules and needs the admin role (403 otherwise). `merge` with "
            "`targetKey` deep-merges the memory into that permanent memory and removes it."
        ),
        request=s.PromoteInput,
        responses={200: s.PromoteOutput},
    )
    @raises(PROMOTION_REFUSED, FORCE_NEEDS_ADMIN, MEMORY_NOT_FOUND)
    def post(self, request):
        data = validated(s.PromoteInput, request.data)
        result = memory_services.memory_promote(
            user=request.user,
            key=data["key"],
            force=data["force"],
            merge=data["merge"],
            target_key=data.get("targetKey"),
            is_admin=request.user.is_staff,
        )
        return Response({"memory": s.PromotedMemoryOutput(result).data})


class DeleteView(MemoryApiView):
    @extend_schema(
        operation_id="memory_delete",
        summary="Delete a memory by key or id",
        request=s.DeleteInput,
        responses={200: s.DeleteOutput},
    )
    @raises(MEMORY_NOT_FOUND)
    def post(self, request):
        body = validated(s.DeleteInput, request.data)
        memory = memory_services.memory_delete(user=request.user, key=body.get("key"), memory_id=body.get("id"))
        return Response({"deleted": True, "key": memory.key, "id": str(memory.id)})


class SearchView(MemoryApiView):
    @extend_schema(
        operation_id="memory_search",
        summary="Search memories by content, tags or filters",
        description=(
            "`relevanceScore` in [0, 1] = share of query words matched x (0.5 + 0.5 x rank / best rank); "
            "PostgreSQL full-text rank on the full stack, BM25 on the embedded default. A memory must carry "
            "every tag given. Without a query every match scores 1.0, most recently updated first."
        ),
        request=s.SearchInput,
        responses={200: s.SearchOutput},
    )
    def post(self, request):
        data = validated(s.SearchInput, request.data)
        page = memory_selectors.memory_search(
            user=request.user,
            query=data["query"],
            layer=data.get("layer"),
            tags=data.get("tags"),
            min_confidence=data.get("minConfidence"),
            limit=data["limit"],
        )
        memories = []
        for hit in page.hits:
            item = s.memory_json(hit.memory)
            item["relevanceScore"] = hit.relevance
            memories.append(item)
        return Response({"memories": memories, "total": page.total})


class ContextView(MemoryApiView):
    @extend_schema(
        operation_id="memory_context",
        summary="The working set of memories for a chat, within maxTokens",
        description=(
            "Ranked by relevance to the chat's recent messages, layer, confidence and recency; secret and pii "
            "memories never enter. `totalTokens` uses the platform's documented estimate (ceil(characters / 4) "
            "of `key: compact JSON content`). `explain: true` (or `?explain=true`) adds every candidate's "
            "score parts and why it was kept or cut."
        ),
        request=s.ContextInput,
        responses={200: s.ContextOutput},
    )
    def post(self, request):
        data = validated(s.ContextInput, request.data)
        explain = data["explain"] or request.query_params.get("explain", "").lower() in ("1", "true", "yes")
        working_set = memory_selectors.memory_working_set(
            user=request.user, chat_id=data.get("chatId"), max_tokens=data["maxTokens"]
        )
        answer = {
            "memories": [s.context_memory_json(memory) for memory in working_set.memories],
            "totalTokens": working_set.total_tokens,
            "count": len(working_set.memories),
        }
        if explain:
            answer["explain"] = {
                "weights": conf.CONTEXT_WEIGHTS,
                "layerWeights": conf.LAYER_WEIGHTS,
                "tokenizer": "estimate: ceil(characters / 4) of 'key: compact JSON content' (core.llm.tokens)",
                "maxTokens": working_set.max_tokens,
                "conversationTerms": working_set.conversation_terms,
                "excludedSensitive": memory_selectors.working_set_exclusions(user=request.user),
                "pool": s.pool_json(working_set.pool),
                "candidates": s.CandidateOutput(working_set.candidates, many=True).data,
            }
        return Response(answer)


class RagView(MemoryApiView):
    rate_limit_scopes = ("cerebro.expensive",)

    @extend_schema(
        operation_id="memory_rag",
        summary="Retrieve knowledge (uploaded text/PDF files and permanent memories) for a query",
        description=(
            "Vector retrieval through the configured embedder, guarded by a circuit breaker: when it fails or "
            "is open the answer comes from full-text search (`degraded: true`), or is a 503 when no fallback "
            "is left. Repeated queries are answered from the two-level cache (`cached: true`). The `context` "
            "hint is searched along with the query."
        ),
        request=s.RagInput,
        responses={200: s.RagOutput},
    )
    @raises(RETRIEVAL_UNAVAILABLE)
    def post(self, request):
        body = validated(s.RagInput, request.data)
        answer = rag_answer(
            user=request.user,
            query=body["query"],
            hints=body["hints"],
            max_results=body["maxResults"],
        )
        found = answer.as_dict()
        for result in found["results"]:  # a file's download link, absolute as the upload answers it
            url = result["metadata"].get("url")
            if isinstance(url, str) and url.startswith("/"):
                result["metadata"]["url"] = request.build_absolute_uri(url)
        return Response(found)


class MetricsView(MemoryApiView):
    permission_classes = (StaffOnly,)

    @extend_schema(
        operation_id="memory_metrics",
        summary="CEREBRO metrics and health (admin role)",
        responses={200: s.MetricsOutput},
    )
    def get(self, request):
        return Response(memory_metrics())
