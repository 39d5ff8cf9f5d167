"""Tasks that exist only for the integration tests; the test worker loads them with ``-I``.

They go through the same code paths real tasks use: ``core.realtime.publish`` from inside a
worker, and the project's Celery settings (acks late, re-delivery when a worker dies).
"""

from __future__ import annotations

import os
import time

import redis
from celery import shared_task
from django.conf import settings

from core import realtime


def attempts_key(run_id: str) -> str:
    return f"integration:attempts:{run_id}"


def done_key(run_id: str) -> str:
    return f"integration:done:{run_id}"


def pids_key(run_id: str) -> str:
    return f"integration:pids:{run_id}"


def redis_client() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5, socket_connect_timeout=5)


@shared_task(name="integration.publish_user_events")
def publish_user_events_task(events: list[list]) -> None:
    """Publish each ``[user_id, event, data]`` in order, as any service or task would."""
    for user_id, event, data in events:
        realtime.publish(user_id, event, data)


@shared_task(name="integration.record_attempt")
def record_attempt_task(run_id: str, first_attempt_sleep: float) -> int:
    """Count the attempt, then sleep on the first one only (the window in which it gets killed).

    The attempt count lives in Redis, outside the worker, so it survives the worker's death.
    """
    client = redis_client()
    attempt = client.incr(attempts_key(run_id))
    client.rpush(pids_key(run_id), os.getpid())
    client.expire(attempts_key(run_id), 600)
    client.expire(pids_key(run_id), 600)
    if attempt == 1:
        time.sleep(first_attempt_sleep)
    client.set(done_key(run_id), attempt, ex=600)
    return attempt
