"""cerebro's Celery tasks: thin, idempotent, with explicit limits and retries (core.jobs)."""

from __future__ import annotations

from django.db import OperationalError

from cerebro.models import Upload
from cerebro.services.knowledge import upload_index_knowledge
from cerebro.services.memory import memory_purge_expired
from core.jobs import JobRows, job_task

# An upload waiting to be indexed whose send failed or whose worker died is sent again (core/jobs.py).
UPLOAD_ROWS = JobRows(
    model=Upload,
    waiting={"knowledge_status": Upload.KnowledgeStatus.PENDING},
    heartbeat_field="index_heartbeat_at",
    run_id_field=None,
)


@job_task(soft_time_limit=300, rows=UPLOAD_ROWS, retry_on=(OperationalError,), max_retries=5)
def upload_index_knowledge_task(upload_id: str) -> int:
    """Extract, chunk and embed one uploaded text or PDF file (rebuilds its chunks when re-run)."""
    return upload_index_knowledge(upload_id=upload_id)


@job_task(soft_time_limit=240, retry_on=(OperationalError,), max_retries=3)
def memory_purge_expired_task() -> int:
    """Delete every expired memory (beat runs it every five minutes)."""
    return memory_purge_expired()
