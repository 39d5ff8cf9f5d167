"""cerebro's Celery tasks: thin, idempotent, with explicit limits and retries (core.jobs)."""

from __future__ import annotations

import logging

from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from cerebro.models import Upload
from cerebro.services.knowledge import upload_index_fail, upload_index_knowledge
from cerebro.services.memory import memory_purge_expired
from core.jobs import JobRows, job_task

logger = logging.getLogger(__name__)

INDEX_SOFT_TIME_LIMIT = 300

# An upload waiting to be indexed whose send failed or whose worker died is sent again (core/jobs.py).
UPLOAD_ROWS = JobRows(
    model=Upload,
    waiting={"knowledge_status": Upload.KnowledgeStatus.PENDING},
    heartbeat_field="index_heartbeat_at",
    run_id_field=None,
)


@job_task(soft_time_limit=INDEX_SOFT_TIME_LIMIT, rows=UPLOAD_ROWS, retry_on=(OperationalError,), max_retries=5)
def upload_index_knowledge_task(upload_id: str) -> int:
    """Extract, chunk and embed one uploaded text or PDF file (rebuilds its chunks when re-run).

    A run that crashes or passes its time limit ends the upload failed, as the engine's and the
    coder's runs end their jobs: left pending, the watchdog would send it again, and it would fail
    again, for ever. The database going away is retried instead (and then left to the watchdog).
    """
    try:
        return upload_index_knowledge(upload_id=upload_id)
    except OperationalError:
        raise
    except SoftTimeLimitExceeded:
        reason = f"indexing ran past its time limit of {INDEX_SOFT_TIME_LIMIT} seconds"
    except Exception as exc:
        # Logged with its stack trace here; the owner reads only the error's type.
        logger.exception("upload indexing crashed", extra={"upload": upload_id})
        reason = f"indexing failed unexpectedly ({type(exc).__name__})"
    upload_index_fail(upload_id=upload_id, reason=reason)
    return 0


@job_task(soft_time_limit=240, retry_on=(OperationalError,), max_retries=3)
def memory_purge_expired_task() -> int:
    """Delete every expired memory (beat runs it every five minutes)."""
    return memory_purge_expired()
