"""Resumable chat streams: every frame of a running answer is kept until the answer ends, so a
client that reloads the page can read the stream again from its first frame and follow it live
(``GET /api/chat/{id}/stream``).

One store per deployment, chosen by the settings as the rest of the platform is:

- **full stack** (``REDIS_URL``): a Redis stream per answer (``XADD`` per frame, ``XREAD BLOCK``
  to follow), plus a key naming each chat's running answer, so any process can resume an answer
  another process is producing. Keys expire (``CEREBRO_CHAT_STREAM_MAX_SECONDS``) even if the
  producing process dies; a finished answer's frames stay a minute for readers still on it.
- **embedded default**: the same in the memory of the one process.

A reader stops at the end marker, or when nothing has arrived for
``CEREBRO_CHAT_STREAM_IDLE_SECONDS`` (its producer is gone).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

from django.conf import settings

from cerebro import conf

logger = logging.getLogger(__name__)

FINISHED_STREAM_SECONDS = 60
_KEY = "cerebro:chat-stream:{stream_id}"
_ACTIVE_KEY = "cerebro:chat-stream:active:{chat_id}"
# Delete the chat's pointer only if it still names this answer (a newer answer may have replaced it).
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class StreamWriter(Protocol):
    async def append(self, frame: bytes) -> None: ...

    async def close(self) -> None: ...


class StreamStore(Protocol):
    async def open(self, *, chat_id: str, stream_id: str) -> StreamWriter:
        """Start keeping the frames of ``stream_id`` and name it the chat's running answer."""

    async def running(self, chat_id: str) -> str | None:
        """The id of the chat's running answer, if one is running."""

    def read(self, stream_id: str) -> AsyncIterator[bytes]:
        """Every frame of the answer from its first, then each new one until it ends."""


# --- embedded default: one process ---------------------------------------------------------------


@dataclass
class _Buffer:
    frames: list[bytes] = field(default_factory=list)
    closed_at: float | None = None
    # Readers waiting for the next frame, each on its own event loop (Django runs async code in
    # more than one loop: the ASGI server's, and async_to_sync's under a sync caller).
    waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = field(default_factory=list)

    def wake(self) -> None:
        waiters, self.waiters = self.waiters, []
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that reader's loop has closed
                continue


class MemoryStreamStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffers: dict[str, _Buffer] = {}
        self._running: dict[str, str] = {}

    async def open(self, *, chat_id: str, stream_id: str) -> _MemoryWriter:
        with self._lock:
            cutoff = time.monotonic() - FINISHED_STREAM_SECONDS
            for finished in [key for key, kept in self._buffers.items() if kept.closed_at and kept.closed_at < cutoff]:
                del self._buffers[finished]
            self._buffers[stream_id] = _Buffer()
            self._running[chat_id] = stream_id
        return _MemoryWriter(self, chat_id, stream_id)

    async def running(self, chat_id: str) -> str | None:
        with self._lock:
            return self._running.get(chat_id)

    async def read(self, stream_id: str) -> AsyncIterator[bytes]:
        with self._lock:
            buffer = self._buffers.get(stream_id)
        if buffer is None:
            return
        position = 0
        while True:
            event = None
            with self._lock:
                new = buffer.frames[position:]
                if not new and buffer.closed_at is None:
                    event = asyncio.Event()
                    buffer.waiters.append((asyncio.get_running_loop(), event))
            for frame in new:
                yield frame
            position += len(new)
            if event is None:
                if not new:
                    return  # closed and fully read
                continue
            try:
                await asyncio.wait_for(event.wait(), conf.CHAT_STREAM_IDLE_SECONDS)
            except TimeoutError:
                return

    def _append(self, stream_id: str, frame: bytes) -> None:
        with self._lock:
            buffer = self._buffers[stream_id]
            buffer.frames.append(frame)
            buffer.wake()

    def _close(self, chat_id: str, stream_id: str) -> None:
        with self._lock:
            if self._running.get(chat_id) == stream_id:
                del self._running[chat_id]
            buffer = self._buffers[stream_id]
            buffer.closed_at = time.monotonic()
            buffer.wake()


@dataclass
class _MemoryWriter:
    store: MemoryStreamStore
    chat_id: str
    stream_id: str

    async def append(self, frame: bytes) -> None:
        self.store._append(self.stream_id, frame)

    async def close(self) -> None:
        self.store._close(self.chat_id, self.stream_id)


# --- full stack: Redis ---------------------------------------------------------------------------


class RedisStreamStore:
    def __init__(self, url: str) -> None:
        self.url = url

    def _client(self):
        import redis.asyncio

        return redis.asyncio.from_url(self.url, **settings.REDIS_ASYNCIO_OPTIONS)

    async def open(self, *, chat_id: str, stream_id: str) -> _RedisWriter:
        client = self._client()
        try:
            await client.set(_ACTIVE_KEY.format(chat_id=chat_id), stream_id, ex=conf.CHAT_STREAM_MAX_SECONDS)
        except BaseException:
            await client.aclose()
            raise
        return _RedisWriter(client, chat_id, stream_id)

    async def running(self, chat_id: str) -> str | None:
        client = self._client()
        try:
            value = await client.get(_ACTIVE_KEY.format(chat_id=chat_id))
        finally:
            await client.aclose()
        return value.decode() if value else None

    async def read(self, stream_id: str) -> AsyncIterator[bytes]:
        key = _KEY.format(stream_id=stream_id)
        client = self._client()
        try:
            last = "0-0"
            while True:
                answer = await client.xread({key: last}, count=100, block=conf.CHAT_STREAM_IDLE_SECONDS * 1000)
                if not answer:
                    return
                for entry_id, fields in answer[0][1]:
                    if b"end" in fields:
                        return
                    last = entry_id
                    yield fields[b"f"]
        finally:
            await client.aclose()


@dataclass
class _RedisWriter:
    client: object
    chat_id: str
    stream_id: str

    @property
    def key(self) -> str:
        return _KEY.format(stream_id=self.stream_id)

    async def append(self, frame: bytes) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            pipe.xadd(self.key, {"f": frame})
            pipe.expire(self.key, conf.CHAT_STREAM_MAX_SECONDS)
            await pipe.execute()

    async def close(self) -> None:
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.xadd(self.key, {"end": "1"})
                pipe.expire(self.key, FINISHED_STREAM_SECONDS)
                pipe.eval(_RELEASE, 1, _ACTIVE_KEY.format(chat_id=self.chat_id), self.stream_id)
                await pipe.execute()
        finally:
            await self.client.aclose()


_memory_store = MemoryStreamStore()


def stream_store() -> StreamStore:
    """Redis when ``REDIS_URL`` is set, the process's memory otherwise."""
    if settings.REDIS_URL:
        return RedisStreamStore(settings.REDIS_URL)
    return _memory_store
