"""Celery tasks of the analytics app: thin, idempotent, with explicit limits (core.jobs)."""

from __future__ import annotations

from django.db import OperationalError

from analytics.services.retention import retention_purge
from core.jobs import job_task


@job_task(soft_time_limit=1800, retry_on=(ConnectionError, OperationalError), max_retries=3)
def retention_purge_task() -> dict[str, int]:
    """Nightly: delete raw records older than ANALYTICS_RETENTION_DAYS. Running twice does no harm."""
    return retention_purge()
