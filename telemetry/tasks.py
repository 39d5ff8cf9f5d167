"""Celery tasks of telemetry: thin, idempotent, with explicit retries and time limits (core.jobs)."""

from __future__ import annotations

from smtplib import SMTPException

from django.db import OperationalError

from core.jobs import job_task
from telemetry.services.keys import telemetry_key_confirmation_send
from telemetry.services.pattern_set import pattern_set_rebuild


@job_task(soft_time_limit=240, retry_on=(OperationalError,), max_retries=5)
def pattern_set_rebuild_task() -> str | None:
    """Publish the pairs changed since the last rebuild; running it twice publishes nothing twice."""
    version = pattern_set_rebuild()
    return version.label if version else None


@job_task(soft_time_limit=50, retry_on=(SMTPException, OSError, OperationalError), max_retries=5)
def telemetry_key_confirmation_send_task(key_id: int, confirm_url: str) -> bool:
    """E-mail a new key's confirmation code; a confirmed or revoked key gets none. At worst, run
    twice, it sends the same code twice."""
    return telemetry_key_confirmation_send(key_id=key_id, confirm_url=confirm_url)
