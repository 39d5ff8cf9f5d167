"""The events Async Coder sends to a user's sockets (``/coder/ws``), built by their serializers.

Each is published through ``core.realtime.publish``, so an event raised inside a transaction goes
out only once it commits, and only to the owner's sockets.
"""

from __future__ import annotations

from coder.serializers.events import (
    CreditsUpdatedEventSerializer,
    TaskCompletedEventSerializer,
    TaskStatusEventSerializer,
)
from core.realtime import publish

TASK_STATUS_UPDATED = "task:status_updated"
TASK_COMPLETED = "task:completed"
CREDITS_UPDATED = "credits:updated"


def _plain(data) -> dict:
    """Serializer output (ordered, nested) as plain dicts for the channel layer."""
    return {key: _plain(value) if isinstance(value, dict) else value for key, value in data.items()}


def task_status_updated(*, user_id, task_id, status: str, progress: int) -> None:
    data = TaskStatusEventSerializer({"task_id": task_id, "status": status, "progress": progress}).data
    publish(user_id, TASK_STATUS_UPDATED, _plain(data))


def task_completed(
    *, user_id, task_id, status: str, credits_used: int, result_type: str | None, pull_request_url: str | None
) -> None:
    data = TaskCompletedEventSerializer(
        {
            "task_id": task_id,
            "status": status,
            "credits_used": credits_used,
            "result": {"type": result_type, "pull_request_url": pull_request_url or None},
        }
    ).data
    publish(user_id, TASK_COMPLETED, _plain(data))


def credits_updated(*, user_id, credits: int, change: int) -> None:
    data = CreditsUpdatedEventSerializer({"user_id": user_id, "credits": credits, "change": change}).data
    publish(user_id, CREDITS_UPDATED, _plain(data))
