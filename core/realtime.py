"""Real-time events: ``publish(user_id, event, data)`` reaches every socket of that user, no one else.

Each connected socket joins the channel-layer group of its user. Publishing inside a transaction
waits for the commit, so no client hears of a change that was rolled back.

Synchronous code (views under gunicorn, Celery tasks, commands) publishes to a networked channel
layer (Redis) through one event loop of its process, on a thread of its own, so the layer's
connections are opened once and kept: ``async_to_sync`` would run every publish in a new event
loop, and channels-redis opens a new connection for each loop (measured: 7 ms a publish, most of
the event's delay; docs/BENCHMARKS.md, realtime). The in-memory layer of the embedded default
keeps ``async_to_sync``, which runs the send on the ASGI server's own loop, where its sockets'
queues live.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import threading
import uuid
from collections.abc import Coroutine
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "realtime.event"
SESSION_ENDED = "session.ended"
# Seconds a publish may wait for the channel layer before the event is given up (and logged).
PUBLISH_TIMEOUT = 5.0


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user.{user_id}"


def _message(event: str, data: Any) -> dict:
    return {"type": EVENT_MESSAGE_TYPE, "event": event, "data": data}


class PublishingLoop:
    """One event loop on a daemon thread, started on first use, again in a forked child."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid: int | None = None

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None or self._pid != os.getpid():  # a fork has no thread of its parent's
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name="realtime-publish", daemon=True).start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop

    def run(self, coroutine: Coroutine[Any, Any, Any], *, timeout: float) -> Any:
        """Run ``coroutine`` on the loop; wait at most ``timeout`` seconds for it."""
        future = asyncio.run_coroutine_threadsafe(coroutine, self._running_loop())
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise


_publishing_loop = PublishingLoop()


def session_group(session_id: uuid.UUID | str) -> str:
    """The sockets signed in through one session (closed when it ends)."""
    return f"session.{session_id}"


def _group_send_now(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        if isinstance(layer, InMemoryChannelLayer):
            async_to_sync(layer.group_send)(group, message)
        else:
            _publishing_loop.run(layer.group_send(group, message), timeout=PUBLISH_TIMEOUT)
    except Exception:  # a lost event must never fail the write that caused it
        logger.warning("realtime publish failed", extra={"event": message.get("event", message["type"])}, exc_info=True)


def publish_now(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    _group_send_now(user_group(user_id), _message(event, data))


def sessions_ended(session_ids: list[uuid.UUID | str]) -> None:
    """Close every socket signed in through these sessions, once the revocation is committed: a
    revoked session's socket would otherwise keep relaying the user's events."""
    groups = [session_group(session_id) for session_id in session_ids]
    if groups:
        transaction.on_commit(lambda: [_group_send_now(group, {"type": SESSION_ENDED}) for group in groups])


def publish(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    """Send ``{"event": event, "data": data}`` to every socket of ``user_id`` once committed."""
    transaction.on_commit(lambda: publish_now(user_id, event, data))


async def apublish(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    """The same from async code (no transaction to wait for)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(user_group(user_id), _message(event, data))
