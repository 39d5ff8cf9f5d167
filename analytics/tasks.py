"""Celery tasks of the analytics app: thin, idempotent, with explicit limits (core.jobs)."""

from __future__ import annotations

from django.db import OperationalError

from analytics.services.alerts import SEND_ERRORS, error_group_alert_send
from analytics.services.retention import retention_purge
from core.jobs import job_task


@job_task(soft_time_limit=1800, retry_on=(ConnectionError, OperationalError), max_retries=3)
def retention_purge_task() -> dict[str, int]:
    """Nightly: delete raw records older than ANALYTICS_RETENTION_DAYS. Running twice does no harm."""
    return retention_purge()


@job_task(soft_time_limit=60, retry_on=SEND_ERRORS, max_retries=5, backoff_base=30, backoff_cap=900)
def error_group_alert_send_task(alert_id: int) -> bool:
    """E-mail one error group alert; a run after the one that sent it does nothing."""
    return error_group_alert_send(alert_id=alert_id)
