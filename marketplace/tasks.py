"""Celery tasks of the marketplace: thin, idempotent, explicit retries and time limits (core.jobs).

Engine seam: ``GENERATION_JOB_RUN_TASK`` and ``TRAINING_JOB_RUN_TASK`` are the names of the tasks
the generation and training engines register (marketplace/engine_tasks.py). Each takes one
argument, the job id, and drives the job through ``marketplace.services.generation`` (start,
progress, complete or fail).
"""

from __future__ import annotations

from core.jobs import job_task
from marketplace import conf
from marketplace.services.generation import GENERATION_JOB_RUN_TASK, TRAINING_JOB_RUN_TASK
from marketplace.services.maintenance import marketplace_upkeep
from marketplace.services.pinning import dataset_file_pin
from marketplace.services.purchases import purchase_recheck
from marketplace.services.webhooks import webhook_delivery_attempt

__all__ = [
    "GENERATION_JOB_RUN_TASK",
    "TRAINING_JOB_RUN_TASK",
    "dataset_file_pin_task",
    "marketplace_upkeep_task",
    "purchase_verify_task",
    "webhook_delivery_send_task",
]


@job_task(soft_time_limit=60, max_retries=max(0, conf.WEBHOOK_MAX_ATTEMPTS - 1), bind=True)
def webhook_delivery_send_task(self, delivery_id: str) -> None:
    """One try at a webhook delivery; the next try is scheduled with exponential backoff.

    Without a broker (tasks run in-process) nothing can wait: the delivery stays pending with its
    ``next_attempt_at`` and the periodic upkeep makes the next try once that time has come.
    """
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None and not self.request.is_eager:
        raise self.retry(countdown=outcome.retry_in)


@job_task(soft_time_limit=60, max_retries=conf.PURCHASE_RECHECK_MAX_ATTEMPTS, bind=True)
def purchase_verify_task(self, purchase_id: str) -> None:
    """Re-check a pending purchase with its payment provider, backing off between checks.

    Without a broker (tasks run in-process) there is no waiting: the check runs once and the
    periodic upkeep (or the buyer re-submitting the payment) checks again later.
    """
    outcome = purchase_recheck(purchase_id=purchase_id, schedule_next=not self.request.is_eager)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@job_task(
    soft_time_limit=conf.IPFS_PIN_TIME_LIMIT_SECONDS, max_retries=max(0, conf.IPFS_PIN_MAX_ATTEMPTS - 1), bind=True
)
def dataset_file_pin_task(self, file_id: int) -> str:
    """One try at pinning a dataset file on the IPFS node; the next try is scheduled with backoff.

    Without a broker (tasks run in-process) nothing can wait: the file stays pending with its next
    try's time and the periodic upkeep makes that try once it is due.
    """
    worker = not self.request.is_eager
    outcome = dataset_file_pin(file_id=file_id, retried_by_worker=worker)
    if outcome.retry_in is not None and worker:
        raise self.retry(countdown=outcome.retry_in)
    return outcome.status


@job_task(soft_time_limit=240)
def marketplace_upkeep_task() -> dict:
    """Trending scores, used-nonce purge, overdue purchase checks, webhook and pin tries (each idempotent)."""
    return marketplace_upkeep()


# The engines register the generation and training tasks under the names above (issue 6).
from marketplace import engine_tasks  # noqa: E402, F401
