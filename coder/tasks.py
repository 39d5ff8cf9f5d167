"""Celery tasks of Async Coder: thin, idempotent, with explicit limits; the work is in services."""

from __future__ import annotations

from celery import shared_task

from coder import conf
from coder.services import runner
from coder.services.tasks import tasks_fail_stale

RUN_SOFT_TIME_LIMIT = conf.RUN_SOFT_TIME_LIMIT_SECONDS
RUN_TIME_LIMIT = RUN_SOFT_TIME_LIMIT + 60


@shared_task(
    name="coder.task_run",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=0,
    soft_time_limit=RUN_SOFT_TIME_LIMIT,
    time_limit=RUN_TIME_LIMIT,
)
def task_run_task(task_id: str) -> str:
    """Run an Async Coder task. Safe to run twice: a settled task is skipped, a running one starts
    over (its worker died), and settlement happens once."""
    return runner.task_run(task_id=task_id)


@shared_task(name="coder.tasks_fail_stale", acks_late=True, max_retries=0, soft_time_limit=120, time_limit=180)
def tasks_fail_stale_task() -> int:
    """Fail and refund tasks stuck pending or running for longer than CODER_STALE_TASK_SECONDS."""
    return tasks_fail_stale()
