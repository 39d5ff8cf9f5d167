"""Celery tasks of the marketplace: thin, idempotent, explicit retries and time limits (core.jobs).

Each loads by id and calls a service; the wire name is ``marketplace.<function name>``.

The engines' tasks (``generation_job_run_task``, ``training_job_run_task``) take one argument, the
job id, and hand it to the job runners (``services.generation_runner``, ``services.training_runner``),
which drive the job through ``marketplace.services.generation`` (start, progress, complete or fail):

- acks late and re-queued when the worker dies (core.jobs.job_task): a worker killed mid-job leaves
  the message with the broker, which hands it out again (at once on RabbitMQ); on Redis, where an
  unacknowledged message waits for the visibility timeout, the jobs watchdog sends the job again
  once its heartbeat (beaten while the task runs, and by every progress report) is stale. The
  runners start over from scratch and count runs in the job row; after ``MAX_DELIVERIES`` runs that
  never finished the job fails instead of looping forever. Never half-written.
- time limits: a soft limit (the run fails the job with a clear message) and a hard limit one
  minute later (the process is killed; re-delivery then applies).
- retries: only transient errors (database or storage unreachable) are retried, with the one
  backoff (``core.jobs.backoff_seconds``), at most ``TRANSIENT_RETRIES`` times; after that, and for
  any other error, the job fails with a message naming the error's type (never a stack trace), the
  error is logged, and the task ends normally (the job, not the task, carries the failure).
"""

from __future__ import annotations

import logging

from django.db import DatabaseError

from core.jobs import JobRows, backoff_seconds, job_task
from marketplace import conf
from marketplace.engine import conf as engine_conf
from marketplace.models import GenerationJob, JobStatus, TrainingJob
from marketplace.services import generation as seam
from marketplace.services.generation import GENERATION_JOB_RUN_TASK, TRAINING_JOB_RUN_TASK
from marketplace.services.generation_runner import generation_job_run
from marketplace.services.maintenance import marketplace_upkeep
from marketplace.services.pinning import dataset_file_pin
from marketplace.services.purchases import purchase_recheck
from marketplace.services.webhooks import webhook_delivery_attempt

__all__ = [
    "GENERATION_JOB_RUN_TASK",
    "TRAINING_JOB_RUN_TASK",
    "dataset_file_pin_task",
    "generation_job_run_task",
    "marketplace_upkeep_task",
    "purchase_verify_task",
    "training_job_run_task",
    "webhook_delivery_send_task",
]

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (DatabaseError, ConnectionError, TimeoutError)


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


# --- the engines' jobs ----------------------------------------------------------------------------


def training_job_run(**kwargs) -> str:
    # scikit-learn is imported when a training runs, not when a web process loads the task registry
    # to send one (a deferred import for load time: the runner imports nothing from here).
    from marketplace.services.training_runner import training_job_run as run

    return run(**kwargs)


def _run(task, runner, fail, job_id: str) -> str | None:
    # A crash re-delivers the same message, and a retry re-sends it: both keep the task id, the
    # run id the job row names. The runner counts runs; ``retries`` tells it how many were retries.
    # A run past its time limit or crashing ends the job failed (job_task(fail=...)).
    run_id = task.request.id or ""
    try:
        return runner(job_id=job_id, run_id=run_id, retries=task.request.retries)
    except TRANSIENT_ERRORS as exc:
        if task.request.retries < task.max_retries and not task.request.is_eager:
            raise task.retry(exc=exc, countdown=backoff_seconds(task.request.retries + 1, base=10, cap=300))
        logger.exception("engine job gave up on a transient error", extra={"job": job_id})
        fail(job_id=job_id, reason=f"failed on an unavailable service ({type(exc).__name__})", run_id=run_id)
        return "failed"


def _generation_job_fail(*, job_id: str, reason: str, run_id: str) -> None:
    seam.generation_job_fail(job_id=job_id, error=f"The job {reason}", run_id=run_id)


def _training_job_fail(*, job_id: str, reason: str, run_id: str) -> None:
    seam.training_job_fail(job_id=job_id, error=f"The job {reason}", run_id=run_id)


def _job_rows(model) -> JobRows:
    """A lost job goes back to ``queued`` with no progress, for the watchdog to send again."""
    return JobRows(
        model=model,
        waiting={"status": JobStatus.QUEUED},
        running={"status": JobStatus.RUNNING},
        requeue={"status": JobStatus.QUEUED, "progress": 0},
    )


@job_task(
    soft_time_limit=engine_conf.GENERATION_SOFT_TIME_LIMIT,
    rows=_job_rows(GenerationJob),
    max_retries=engine_conf.TRANSIENT_RETRIES,
    bind=True,
    fail=_generation_job_fail,
)
def generation_job_run_task(self, job_id: str) -> str | None:
    """Generate, verify and store the dataset of one generation job."""
    return _run(self, generation_job_run, _generation_job_fail, job_id)


@job_task(
    soft_time_limit=engine_conf.TRAINING_SOFT_TIME_LIMIT,
    rows=_job_rows(TrainingJob),
    max_retries=engine_conf.TRANSIENT_RETRIES,
    bind=True,
    fail=_training_job_fail,
)
def training_job_run_task(self, job_id: str) -> str | None:
    """Train, evaluate and store the model of one training job."""
    return _run(self, training_job_run, _training_job_fail, job_id)
