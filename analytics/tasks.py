"""Celery tasks of the analytics app: thin, idempotent, with explicit limits."""

from __future__ import annotations

from celery import shared_task

from analytics.services.alerts import SEND_ERRORS, error_group_alert_send
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


@shared_task(
    name="analytics.tasks.error_group_alert_send_task",
    soft_time_limit=60,
    time_limit=90,
    acks_late=True,
    autoretry_for=SEND_ERRORS,
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
)
def error_group_alert_send_task(alert_id: int) -> bool:
    """E-mail one error group alert; a run after the one that sent it does nothing."""
    return error_group_alert_send(alert_id=alert_id)
