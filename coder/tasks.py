"""Celery tasks of Async Coder: thin, idempotent, with explicit limits; the work is in services."""

from __future__ import annotations

from coder import conf
from coder.models import Task
from coder.services import runner
from coder.services.tasks import tasks_fail_stale
from core.jobs import JobRows, job_task

# A run that lost its worker is taken back as pending (the watchdog sends it again, core/jobs.py).
TASK_ROWS = JobRows(
    model=Task,
    waiting={"status": Task.Status.PENDING, "settled_at__isnull": True},
    running={"status": Task.Status.RUNNING, "settled_at__isnull": True},
    requeue={"status": Task.Status.PENDING, "progress": 0},
    queue=lambda: conf.TASK_QUEUE,
)


@job_task(soft_time_limit=conf.RUN_SOFT_TIME_LIMIT_SECONDS, rows=TASK_ROWS, bind=True)
def task_run_task(self, task_id: str) -> str:
    """Run an Async Coder task. Safe to run twice: a settled task is skipped, a running one starts
    over (its worker died), a message the task no longer names does nothing, and settlement
    happens once."""
    return runner.task_run(task_id=task_id, run_id=self.request.id or "")


@job_task(soft_time_limit=120)
def tasks_fail_stale_task() -> int:
    """Fail and refund tasks stuck pending or running for longer than CODER_STALE_TASK_SECONDS."""
    return tasks_fail_stale()
