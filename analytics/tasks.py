"""Celery tasks of the analytics app: thin, idempotent, with explicit limits."""

from __future__ import annotations

from celery import shared_task

from analytics.services.retention import retention_purge


@shared_task(
    name="analytics.tasks.analytics_retention_purge_task",
    soft_time_limit=1800,
    time_limit=1900,
    autoretry_for=(ConnectionError,),
    retry_backoff=True,
    max_retries=3,
)
def analytics_retention_purge_task() -> dict[str, int]:
    """Nightly: delete raw records older than ANALYTICS_RETENTION_DAYS. Running twice does no harm."""
    return retention_purge()
