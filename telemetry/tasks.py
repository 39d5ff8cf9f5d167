"""Celery tasks of telemetry: thin, idempotent, with explicit retries and time limits (core.jobs)."""

from __future__ import annotations

from django.db import OperationalError

from core.jobs import job_task
from telemetry.services.pattern_set import pattern_set_rebuild


@job_task(soft_time_limit=240, retry_on=(OperationalError,), max_retries=5)
def pattern_set_rebuild_task() -> str | None:
    """Publish the pairs changed since the last rebuild; running it twice publishes nothing twice."""
    version = pattern_set_rebuild()
    return version.label if version else None
