"""Celery tasks of telemetry: thin, idempotent, with explicit retries and time limits."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from telemetry.services.keys import telemetry_key_confirmation_send
from telemetry.services.pattern_set import pattern_set_rebuild


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=240,
    time_limit=300,
    acks_late=True,
)
def pattern_set_rebuild_task() -> str | None:
    """Publish the pairs changed since the last rebuild; running it twice publishes nothing twice."""
    version = pattern_set_rebuild()
    return version.label if version else None


@shared_task(
    autoretry_for=(SMTPException, OSError, OperationalError),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=50,
    time_limit=60,
    acks_late=True,
)
def telemetry_key_confirmation_send_task(key_id: int, confirm_url: str) -> bool:
    """E-mail a new key's confirmation code; a confirmed or revoked key gets none. At worst, run
    twice, it sends the same code twice."""
    return telemetry_key_confirmation_send(key_id=key_id, confirm_url=confirm_url)
