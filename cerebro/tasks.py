"""cerebro's Celery tasks: thin, idempotent, with explicit limits and retries (core.jobs)."""

from __future__ import annotations

from django.db import OperationalError

from cerebro.models import Upload
from cerebro.services.knowledge import upload_index_fail, upload_index_knowledge
from cerebro.services.memory import memory_purge_expired
from core.jobs import JobRows, job_task

# An upload waiting to be indexed whose send failed or whose worker died is sent again (core/jobs.py).
UPLOAD_ROWS = JobRows(
    model=Upload,
    waiting={"knowledge_status": Upload.KnowledgeStatus.PENDING},
    heartbeat_field="index_heartbeat_at",
    run_id_field=None,
)


def _upload_indexing_fail(*, job_id: str, reason: str, run_id: str) -> None:
    upload_index_fail(upload_id=job_id, reason=f"indexing {reason}")


@job_task(
    soft_time_limit=300,
    rows=UPLOAD_ROWS,
    retry_on=(OperationalError,),
    max_retries=5,
    fail=_upload_indexing_fail,
)
def upload_index_knowledge_task(upload_id: str) -> int:
    """Extract, chunk and embed one uploaded text or PDF file (rebuilds its chunks when re-run).

    A run that crashes or passes its time limit ends the upload failed (``job_task(fail=...)``):
    left pending, the watchdog would send it again, and it would fail again, for ever. The
    database going away is retried instead (and then left to the watchdog).
    """
    return upload_index_knowledge(upload_id=upload_id)


@job_task(soft_time_limit=240, retry_on=(OperationalError,), max_retries=3)
def memory_purge_expired_task() -> int:
    """Delete every expired memory (beat runs it every five minutes)."""
    return memory_purge_expired()
