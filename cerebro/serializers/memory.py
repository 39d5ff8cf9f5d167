"""Memory endpoints: inputs as the spec names them (camelCase), outputs as the spec shows them."""

from __future__ import annotations

from rest_framework import serializers

from cerebro import conf
from cerebro.json_text import compact_json
from cerebro.models import Layer, Memory, Sensitivity
from cerebro.services.memory import memory_content
from core.fields import AsciiIntegerField, JsonObjectField, js_timestamp

MAX_TTL_MINUTES = 10 * 365 * 24 * 60


class MemoryContentField(JsonObjectField):
    default_error_messages = {"too_large": "Content is larger than 1 MB once encoded as JSON."}

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(compact_json(value).encode()) > conf.MAX_CONTENT_BYTES:
            self.fail("too_large")
        return value


class MemoryKeyField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", conf.MAX_KEY_LENGTH)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)


class UpsertInput(serializers.Serializer):
    key = MemoryKeyField()
    content = MemoryContentField()
    # Omitted on an update, each of these keeps the stored memory's value (a secret memory is never
    # made public by a client that leaves sensitivity out); omitted on a create, it is the default.
    layer = serializers.ChoiceField(
        choices=Layer.choices, required=False, help_text="Default `temporary`; an update keeps the memory's."
    )
    confidence = serializers.FloatField(
        min_value=0.0, max_value=1.0, required=False, help_text="Default 0.5; an update keeps the memory's."
    )
    sensitivity = serializers.ChoiceField(
        choices=Sensitivity.choices, required=False, help_text="Default `public`; an update keeps the memory's."
    )
    ttlMinutes = AsciiIntegerField(min_value=1, max_value=MAX_TTL_MINUTES, required=False, allow_null=True)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=64),
        max_length=conf.MAX_TAGS,
        required=False,
        help_text="Default none; an update keeps the memory's.",
    )


class PromoteInput(serializers.Serializer):
    key = MemoryKeyField()
    force = serializers.BooleanField(default=False, help_text="Skip the promotion rules (admin role only).")
    merge = serializers.BooleanField(default=False, help_text="Deep-merge into the permanent memory `targetKey`.")
    targetKey = MemoryKeyField(required=False)


class DeleteInput(serializers.Serializer):
    key = MemoryKeyField(required=False)
    id = serializers.UUIDField(required=False)

    def validate(self, attrs):
        if ("key" in attrs) == ("id" in attrs):
            raise serializers.ValidationError("Give either key or id.")
        return attrs


class SearchInput(serializers.Serializer):
    query = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    layer = serializers.ChoiceField(choices=Layer.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=64), max_length=32, required=False)
    minConfidence = serializers.FloatField(min_value=0.0, max_value=1.0, required=False)
    limit = AsciiIntegerField(min_value=1, max_value=100, default=10)


class ContextInput(serializers.Serializer):
    chatId = serializers.UUIDField(required=False, allow_null=True)
    maxTokens = AsciiIntegerField(min_value=1, max_value=conf.MAX_TOKEN_BUDGET, default=conf.TOKEN_BUDGET)
    explain = serializers.BooleanField(default=False, help_text="Also return each candidate's score parts.")


class RagInput(serializers.Serializer):
    query = serializers.CharField(max_length=2000)
    hints = serializers.DictField(required=False, default=dict)
    maxResults = AsciiIntegerField(min_value=1, max_value=20, default=5)


# --- output -------------------------------------------------------------------------------------


class MemoryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    content = serializers.SerializerMethodField()
    layer = serializers.ChoiceField(choices=Layer.choices)
    confidence = serializers.FloatField()
    sensitivity = serializers.ChoiceField(choices=Sensitivity.choices)
    tags = serializers.ListField(child=serializers.CharField())
    createdAt = serializers.SerializerMethodField()
    updatedAt = serializers.SerializerMethodField()
    expiresAt = serializers.SerializerMethodField()

    def get_content(self, memory: Memory) -> dict:
        return memory_content(memory)

    def get_createdAt(self, memory: Memory) -> str:
        return js_timestamp(memory.created_at)

    def get_updatedAt(self, memory: Memory) -> str:
        return js_timestamp(memory.updated_at)

    def get_expiresAt(self, memory: Memory) -> str | None:
        return js_timestamp(memory.expires_at)


def memory_json(memory: Memory) -> dict:
    """``MemoryOutput``'s shape as a plain dict: lists of memories are built on every search and
    working set, and DRF's field machinery costs more there than the query does."""
    return {
        "id": str(memory.pk),
        "key": memory.key,
        "content": memory_content(memory),
        "layer": memory.layer,
        "confidence": memory.confidence,
        "sensitivity": memory.sensitivity,
        "tags": memory.tags,
        "createdAt": js_timestamp(memory.created_at),
        "updatedAt": js_timestamp(memory.updated_at),
        "expiresAt": js_timestamp(memory.expires_at),
    }


def context_memory_json(memory: Memory) -> dict:
    """``ContextMemoryOutput``'s shape as a plain dict (the spec's working-set entry)."""
    return {
        "id": str(memory.pk),
        "key": memory.key,
        "content": memory_content(memory),
        "layer": memory.layer,
        "confidence": memory.confidence,
        "createdAt": js_timestamp(memory.created_at),
    }


class MemoryEnvelope(serializers.Serializer):
    memory = MemoryOutput()


class PromotedMemoryOutput(serializers.Serializer):
    """Reads a ``PromoteResult``: the promoted (or merged-into) memory and where it came from."""

    id = serializers.UUIDField(source="memory.id")
    key = serializers.CharField(source="memory.key")
    layer = serializers.ChoiceField(choices=Layer.choices, source="memory.layer")
    confidence = serializers.FloatField(source="memory.confidence")
    promotedAt = serializers.SerializerMethodField()
    mergedFrom = serializers.CharField(allow_null=True, source="merged_from")

    def get_promotedAt(self, result) -> str:
        return js_timestamp(result.memory.promoted_at)


class PromoteOutput(serializers.Serializer):
    memory = PromotedMemoryOutput()


class DeleteOutput(serializers.Serializer):
    deleted = serializers.BooleanField()
    key = serializers.CharField()
    id = serializers.UUIDField()


class SearchHitOutput(MemoryOutput):
    relevanceScore = serializers.FloatField(min_value=0, max_value=1)


class SearchOutput(serializers.Serializer):
    memories = SearchHitOutput(many=True)
    total = serializers.IntegerField()


class ContextMemoryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    content = serializers.SerializerMethodField()
    layer = serializers.ChoiceField(choices=Layer.choices)
    confidence = serializers.FloatField()
    createdAt = serializers.SerializerMethodField()

    def get_content(self, memory: Memory) -> dict:
        return memory_content(memory)

    def get_createdAt(self, memory: Memory) -> str:
        return js_timestamp(memory.created_at)


class CandidateOutput(serializers.Serializer):
    id = serializers.UUIDField()
    key = serializers.CharField()
    layer = serializers.CharField()
    tokens = serializers.IntegerField(source="token_count")
    score = serializers.FloatField()
    parts = serializers.SerializerMethodField()
    decision = serializers.ChoiceField(choices=["kept", "cut"])
    reason = serializers.CharField()

    def get_parts(self, candidate) -> dict[str, float]:
        return {
            "relevance": candidate.relevance,
            "layer": candidate.layer_weight,
            "confidence": candidate.confidence,
            "recency": candidate.recency,
        }


class PoolOutput(serializers.Serializer):
    size = serializers.IntegerField(help_text="Memories scored: the union of the lists below")
    perList = serializers.IntegerField(
        help_text="Length of each list: the most relevant, and per layer the most recent and the most confident"
    )
    outsideBound = serializers.FloatField(
        allow_null=True, help_text="The best score a memory outside the pool could have (null: none is outside)"
    )
    exact = serializers.BooleanField(help_text="The candidates are those an unbounded ranking would pick")


def pool_json(pool) -> dict | None:
    """``PoolOutput``'s shape for a ``PoolSummary``."""
    if pool is None:
        return None
    return {"size": pool.size, "perList": pool.per_list, "outsideBound": pool.outside_bound, "exact": pool.exact}


class ExplainOutput(serializers.Serializer):
    weights = serializers.DictField(child=serializers.FloatField())
    layerWeights = serializers.DictField(child=serializers.FloatField())
    tokenizer = serializers.CharField()
    maxTokens = serializers.IntegerField()
    conversationTerms = serializers.ListField(child=serializers.CharField())
    excludedSensitive = serializers.IntegerField(help_text="secret/pii memories, never in a working set")
    pool = PoolOutput(allow_null=True)
    candidates = CandidateOutput(many=True)


class ContextOutput(serializers.Serializer):
    memories = ContextMemoryOutput(many=True)
    totalTokens = serializers.IntegerField()
    count = serializers.IntegerField()
    explain = ExplainOutput(required=False)


class RagResultOutput(serializers.Serializer):
    content = serializers.CharField()
    source = serializers.ChoiceField(choices=["vectorDB", "memory", "lexical"])
    confidence = serializers.FloatField()
    metadata = serializers.DictField()


class RagOutput(serializers.Serializer):
    results = RagResultOutput(many=True)
    degraded = serializers.BooleanField()
    cached = serializers.BooleanField()


class LatencyOutput(serializers.Serializer):
    p95 = serializers.FloatField(allow_null=True)
    p99 = serializers.FloatField(allow_null=True)


class MetricsBody(serializers.Serializer):
    cacheHitRatioL1 = serializers.FloatField(allow_null=True)
    cacheHitRatioL2 = serializers.FloatField(allow_null=True)
    avgLatencyMs = LatencyOutput()
    totalMemories = serializers.DictField(child=serializers.IntegerField())
    samples = serializers.IntegerField()
    cacheLookups = serializers.DictField(child=serializers.IntegerField())
    circuitBreaker = serializers.CharField()


class AlertOutput(serializers.Serializer):
    type = serializers.CharField()
    threshold = serializers.FloatField()
    current = serializers.FloatField()


class MetricsOutput(serializers.Serializer):
    metrics = MetricsBody()
    alerts = AlertOutput(many=True)
    config = serializers.DictField()
