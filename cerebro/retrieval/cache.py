"""A two-level cache: L1 in this process (LRU with a time to live), L2 the shared Django cache.

A lookup tries L1, then L2 (and fills L1 from an L2 hit); each level's hits and misses are counted
for the metrics endpoint. Entries are keyed by content (the caller hashes everything the answer
depends on, including a version that changes when the underlying data does), so nothing ever needs
to be invalidated in place.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from django.core.cache import cache
from django.db import transaction

from cerebro import conf, metrics

_MISSING = object()


class LocalLru:
    def __init__(self, max_entries: int, ttl_seconds: int) -> None:
        self.max_entries = max_entries
        self.ttl_seconds = ttl_seconds
        self._entries: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return _MISSING
            expires, value = entry
            if expires < time.monotonic():
                del self._entries[key]
                return _MISSING
            self._entries.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl_seconds: int | None = None) -> None:
        ttl = min(self.ttl_seconds, ttl_seconds or self.ttl_seconds)
        with self._lock:
            self._entries[key] = (time.monotonic() + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


l1 = LocalLru(conf.RAG_L1_MAX_ENTRIES, conf.RAG_L1_SECONDS)


def get(key: str) -> Any:
    """The cached value or None; counts an L1 lookup, and an L2 lookup on an L1 miss."""
    value = l1.get(key)
    metrics.record_cache_lookup("l1", value is not _MISSING)
    if value is not _MISSING:
        return value
    value = cache.get(key, _MISSING)
    metrics.record_cache_lookup("l2", value is not _MISSING)
    if value is _MISSING:
        return None
    l1.set(key, value)
    return value


def set(key: str, value: Any, ttl_seconds: int) -> None:
    if ttl_seconds <= 0:
        return
    cache.set(key, value, timeout=ttl_seconds)
    l1.set(key, value, ttl_seconds)


def version_of(scope: str) -> str:
    """The current version token of ``scope`` (e.g. one user's knowledge base)."""
    key = f"cerebro:version:{scope}"
    version = cache.get(key)
    if version is None:
        cache.add(key, uuid.uuid4().hex, timeout=None)
        version = cache.get(key)
    return version


def bump_version(scope: str) -> None:
    """Give ``scope`` a new version once the current transaction commits, so every cached answer
    built from the old data stops matching (bumping before the commit could let a reader cache the
    old data under the new version)."""
    transaction.on_commit(lambda: cache.set(f"cerebro:version:{scope}", uuid.uuid4().hex, timeout=None))


def knowledge_scope(user_id) -> str:
    return f"knowledge:{user_id}"
