"""Writes of the layered memory (CEREBRO): upsert, promote, delete, purge.

Rules every write keeps:

- a key names one memory per user across all layers; writing a key that lives in another layer
  is a 409 (an expired memory no longer counts and is replaced);
- each layer has a time to live (context 15 minutes, temporary 7 days, permanent none) that
  ``ttlMinutes`` overrides; every write of a memory restarts it;
- ``secret`` and ``pii`` content is stored only encrypted (core.crypto, Fernet with
  ``FIELD_ENCRYPTION_KEY``); nothing searchable or embeddable is derived from it;
- a change that touches the permanent layer gives the user's knowledge base a new version, so
  cached RAG answers built from the old one are never served again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from cerebro import conf
from cerebro.errors import FORCE_NEEDS_ADMIN, KEY_IN_OTHER_LAYER, MEMORY_NOT_FOUND, PROMOTION_REFUSED
from cerebro.json_text import compact_json
from cerebro.models import Layer, Memory, Sensitivity
from cerebro.retrieval import text as text_analysis
from cerebro.retrieval.cache import bump_version, knowledge_scope
from cerebro.retrieval.embedders import get_embedder
from cerebro.selectors.memory import live
from core import errors
from core.crypto import decrypt_text, encrypt_text
from core.llm.tokens import estimate_tokens

# Stricter last: a merge keeps the stricter sensitivity of the two memories.
SENSITIVITY_ORDER = [Sensitivity.PUBLIC, Sensitivity.CONFIDENTIAL, Sensitivity.PII, Sensitivity.SECRET]


def render_memory(key: str, content: Any) -> str:
    """How a memory is written into a prompt, and what its token count measures."""
    return f"{key}: {compact_json(content)}"


def memory_content(memory: Memory) -> Any:
    """The memory's content, decrypted when it is stored encrypted."""
    if memory.is_encrypted:
        return json.loads(decrypt_text(memory.content_encrypted)) if memory.content_encrypted else None
    return memory.content


def expiry_for(layer: str, ttl_minutes: int | None, now: datetime) -> datetime | None:
    minutes = ttl_minutes if ttl_minutes is not None else conf.TTL_MINUTES[layer]
    return None if minutes is None else now + timedelta(minutes=minutes)


def _store_content(memory: Memory, content: Any) -> None:
    """Set the content columns and everything derived from them, honouring the sensitivity."""
    key_words = " ".join(text_analysis.words(memory.key))
    tags_text = " ".join(memory.tags)
    memory.token_count = estimate_tokens(render_memory(memory.key, content))
    if memory.is_encrypted:
        memory.content = None
        memory.content_encrypted = encrypt_text(compact_json(content))
        memory.search_text = f"{key_words} {tags_text}".strip()
        memory.embedding = None
        return
    memory.content = content
    memory.content_encrypted = ""
    memory.search_text = f"{key_words} {tags_text} {text_analysis.flatten_json_text(content)}".strip()
    _embed(memory)


def _embed(memory: Memory) -> None:
    """Only permanent memories take part in RAG, so only they carry an embedding (keeping the
    rows that search and the working set scan narrow)."""
    keep = memory.layer == Layer.PERMANENT and not memory.is_encrypted
    memory.embedding = get_embedder().embed(memory.search_text) if keep else None


@dataclass(frozen=True)
class UpsertResult:
    memory: Memory
    created: bool
    content: Any


def memory_upsert(
    *,
    user,
    key: str,
    content: Any,
    layer: str | None = None,
    confidence: float | None = None,
    sensitivity: str | None = None,
    ttl_minutes: int | None = None,
    tags: list[str] | None = None,
) -> UpsertResult:
    """Create the memory named ``key`` or update it in place when it lives in ``layer``.

    ``layer``, ``confidence``, ``sensitivity`` and ``tags`` left out (None) keep an existing
    memory's values and take ``NEW_MEMORY_DEFAULTS`` for a new one: an update never lowers a
    memory's sensitivity unless it says so. 409 when the key lives (unexpired) in another layer.
    Safe under concurrency: two creates of the same key resolve to one memory (the loser retries
    as an update).
    """
    for attempt in range(2):
        try:
            return _upsert_once(
                user=user,
                key=key,
                content=content,
                layer=layer,
                confidence=confidence,
                sensitivity=sensitivity,
                ttl_minutes=ttl_minutes,
                tags=tags,
            )
        except IntegrityError:
            if attempt:
                raise
    raise AssertionError("unreachable")


# What a new memory has for each field its upsert leaves out.
NEW_MEMORY_DEFAULTS = Memory(layer=Layer.TEMPORARY, confidence=0.5, sensitivity=Sensitivity.PUBLIC, tags=[])


@transaction.atomic
def _upsert_once(*, user, key, content, layer, confidence, sensitivity, ttl_minutes, tags) -> UpsertResult:
    now = timezone.now()
    existing = Memory.objects.select_for_update().filter(user=user, key=key).first()
    if existing is not None and existing.expires_at is not None and existing.expires_at <= now:
        touches_permanent = existing.layer == Layer.PERMANENT
        existing.delete()
        existing = None
        if touches_permanent:
            bump_version(knowledge_scope(user.pk))
    kept = existing or NEW_MEMORY_DEFAULTS
    layer = layer or kept.layer
    if existing is not None and existing.layer != layer:
        raise KEY_IN_OTHER_LAYER(
            f"Key {key!r} already names a memory in the {existing.layer} layer",
            details={"key": key, "existingLayer": existing.layer, "requestedLayer": layer},
        )
    created = existing is None
    memory = existing or Memory(user=user, key=key, layer=layer, created_at=now)
    memory.sensitivity = sensitivity or kept.sensitivity
    memory.confidence = kept.confidence if confidence is None else confidence
    memory.tags = list(dict.fromkeys(kept.tags if tags is None else tags))
    memory.updated_at = now
    memory.expires_at = expiry_for(layer, ttl_minutes, now)
    _store_content(memory, content)
    with transaction.atomic():
        memory.save()
    if layer == Layer.PERMANENT:
        bump_version(knowledge_scope(user.pk))
    return UpsertResult(memory=memory, created=created, content=content)


def deep_merge(base: Any, incoming: Any) -> Any:
    """``incoming`` merged into ``base``: objects merge key by key, recursively; anything else
    (lists, scalars, type changes) is replaced by ``incoming``."""
    if not isinstance(base, dict) or not isinstance(incoming, dict):
        return incoming
    merged = dict(base)
    for key, value in incoming.items():
        merged[key] = deep_merge(merged[key], value) if key in merged else value
    return merged


def promotion_problems(memory: Memory) -> list[str]:
    """Why ``memory`` may not be promoted without ``force`` (empty: it may)."""
    problems = []
    if memory.layer != Layer.TEMPORARY:
        problems.append(f"only temporary memories are promoted; this one is in the {memory.layer} layer")
    if memory.confidence < conf.PROMOTE_MIN_CONFIDENCE:
        problems.append(f"confidence {memory.confidence} is below the promotion floor {conf.PROMOTE_MIN_CONFIDENCE}")
    return problems


def _check_merged_within_limits(*, content: Any, tags: list[str]) -> None:
    """A merge makes one memory of two: it must keep the limits an upsert of it would (1 MB of
    content, 32 tags), or repeated merges would grow a memory without bound."""
    problems = {}
    if len(compact_json(content).encode()) > conf.MAX_CONTENT_BYTES:
        problems["content"] = [f"the merged content would be over {conf.MAX_CONTENT_BYTES} bytes"]
    if len(tags) > conf.MAX_TAGS:
        problems["tags"] = [f"the merged memory would have over {conf.MAX_TAGS} tags"]
    if problems:
        raise errors.VALIDATION("The merged memory would be over the limits of one memory", details=problems)


@dataclass(frozen=True)
class PromoteResult:
    memory: Memory
    merged_from: str | None


@transaction.atomic
def memory_promote(
    *, user, key: str, force: bool = False, merge: bool = False, target_key: str | None = None, is_admin: bool
) -> PromoteResult:
    """Move a temporary memory to the permanent layer (no expiry from then on).

    Without ``force`` the rules of ``promotion_problems`` must hold (400 otherwise); ``force``
    skips them and is for the admin role only (403 otherwise). With ``merge``, the memory is
    deep-merged into the permanent memory ``target_key`` (its values win; tags are united; the
    higher confidence and the stricter sensitivity are kept) and then removed.
    """
    if force and not is_admin:
        raise FORCE_NEEDS_ADMIN()
    if merge and not target_key:
        raise errors.VALIDATION(
            "merge needs targetKey: the permanent memory to merge into", details={"targetKey": ["required with merge"]}
        )
    now = timezone.now()
    keys = [key, target_key] if merge else [key]
    locked = {
        m.key: m for m in live(Memory.objects.select_for_update().filter(user=user, key__in=keys), now).order_by("pk")
    }
    memory = locked.get(key)
    if memory is None:
        raise MEMORY_NOT_FOUND(details={"key": key})
    if memory.layer == Layer.PERMANENT:
        raise PROMOTION_REFUSED("The memory is already permanent", details={"key": key, "layer": memory.layer})
    if not force:
        problems = promotion_problems(memory)
        if problems:
            raise PROMOTION_REFUSED(
                f"Promotion rules not met: {problems[0]}",
                details={"rules": problems, "minConfidence": conf.PROMOTE_MIN_CONFIDENCE},
            )
    bump_version(knowledge_scope(user.pk))
    if not merge:
        memory.layer = Layer.PERMANENT
        memory.expires_at = None
        memory.promoted_at = now
        memory.updated_at = now
        _embed(memory)
        memory.save(update_fields=["layer", "expires_at", "promoted_at", "updated_at", "embedding"])
        return PromoteResult(memory=memory, merged_from=None)

    target = locked.get(target_key)
    if target is None or target.layer != Layer.PERMANENT:
        raise MEMORY_NOT_FOUND(
            f"No permanent memory named {target_key!r} to merge into", details={"targetKey": target_key}
        )
    merged_content = deep_merge(memory_content(target), memory_content(memory))
    merged_tags = list(dict.fromkeys([*target.tags, *memory.tags]))
    _check_merged_within_limits(content=merged_content, tags=merged_tags)
    target.sensitivity = max(target.sensitivity, memory.sensitivity, key=SENSITIVITY_ORDER.index)
    target.confidence = max(target.confidence, memory.confidence)
    target.tags = merged_tags
    target.promoted_at = now
    target.updated_at = now
    _store_content(target, merged_content)
    memory.delete()
    target.save()
    return PromoteResult(memory=target, merged_from=key)


@dataclass(frozen=True)
class DeletedMemory:
    id: Any
    key: str


@transaction.atomic
def memory_delete(*, user, key: str | None = None, memory_id=None) -> DeletedMemory:
    """Remove the user's memory named ``key`` (or with ``memory_id``); 404 when there is none
    (unknown, expired, or another user's)."""
    memories = live(Memory.objects.filter(user=user))
    memory = (memories.filter(key=key) if key is not None else memories.filter(pk=memory_id)).first()
    if memory is None:
        raise MEMORY_NOT_FOUND(details={"key": key} if key is not None else {"id": str(memory_id)})
    if memory.layer == Layer.PERMANENT:
        bump_version(knowledge_scope(user.pk))
    deleted = DeletedMemory(id=memory.pk, key=memory.key)
    memory.delete()
    return deleted


def memory_purge_expired(*, batch_size: int = 1000) -> int:
    """Delete every expired memory, in batches; returns how many went."""
    total = 0
    while True:
        now = timezone.now()
        with transaction.atomic():
            batch = list(Memory.objects.filter(expires_at__lte=now).values_list("pk", "user_id", "layer")[:batch_size])
            if not batch:
                return total
            Memory.objects.filter(pk__in=[pk for pk, _, _ in batch]).delete()
            for user_id in {user_id for _, user_id, layer in batch if layer == Layer.PERMANENT}:
                bump_version(knowledge_scope(user_id))
        total += len(batch)
