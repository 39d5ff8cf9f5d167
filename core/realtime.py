"""Real-time events: ``publish(user_id, event, data)`` reaches every socket of that user, no one else.

Each connected socket joins the channel-layer group of its user. Publishing inside a transaction
waits for the commit, so no client hears of a change that was rolled back.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

EVENT_MESSAGE_TYPE = "realtime.event"


def user_group(user_id: uuid.UUID | str) -> str:
    return f"user.{user_id}"


def _message(event: str, data: Any) -> dict:
    return {"type": EVENT_MESSAGE_TYPE, "event": event, "data": data}


def publish_now(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(user_group(user_id), _message(event, data))
    except Exception:  # a lost event must never fail the write that caused it
        logger.warning("realtime publish failed", extra={"event": event}, exc_info=True)


def publish(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    """Send ``{"event": event, "data": data}`` to every socket of ``user_id`` once committed."""
    transaction.on_commit(lambda: publish_now(user_id, event, data))


async def apublish(user_id: uuid.UUID | str, event: str, data: Any) -> None:
    """The same from async code (no transaction to wait for)."""
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(user_group(user_id), _message(event, data))
