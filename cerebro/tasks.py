"""cerebro's Celery tasks: thin, idempotent, with explicit limits and retries."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from cerebro.services.knowledge import upload_index_knowledge
from cerebro.services.memory import memory_purge_expired


@shared_task(
    name="cerebro.upload_index_knowledge",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=300,
    time_limit=360,
)
def upload_index_knowledge_task(upload_id: str) -> int:
    """Extract, chunk and embed one uploaded text or PDF file (rebuilds its chunks when re-run)."""
    return upload_index_knowledge(upload_id=upload_id)


@shared_task(
    name="cerebro.memory_purge_expired",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=240,
    time_limit=300,
)
def memory_purge_expired_task() -> int:
    """Delete every expired memory (beat runs it every five minutes)."""
    return memory_purge_expired()
