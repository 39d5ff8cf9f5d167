"""The engines' Celery tasks, registered under the names ``marketplace.tasks`` reserves for them.

Thin, as every task here: load by id, call the engine's job runner, decide about retries.

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

from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError

from core.jobs import JobRows, backoff_seconds, job_task
from marketplace.engine import conf
from marketplace.models import GenerationJob, JobStatus, TrainingJob
from marketplace.services import generation as seam

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (DatabaseError, ConnectionError, TimeoutError)


# The engines (numpy, Arrow, scikit-learn) are imported when a job runs, not when a web process
# loads the task registry to send one.
def generation_job_run(**kwargs) -> str:
    from marketplace.engine.jobs import generation_job_run as run

    return run(**kwargs)


def training_job_run(**kwargs) -> str:
    from marketplace.training.jobs import training_job_run as run

    return run(**kwargs)


def _fail_quietly(fail, job_id: str, error: str, run_id: str) -> None:
    try:
        fail(job_id=job_id, error=error, run_id=run_id)
    except TRANSIENT_ERRORS:
        logger.exception("could not mark the job failed", extra={"job": job_id})


def _run(task, runner, fail, job_id: str, limit: int) -> str:
    # A crash re-delivers the same message, and a retry re-sends it: both keep the task id, the
    # run id the job row names. The runner counts runs; ``retries`` tells it how many were retries.
    run_id = task.request.id or ""
    try:
        return runner(job_id=job_id, run_id=run_id, retries=task.request.retries)
    except SoftTimeLimitExceeded:
        _fail_quietly(fail, job_id, f"The job ran past its time limit of {limit} seconds", run_id)
        return "failed"
    except TRANSIENT_ERRORS as exc:
        if task.request.retries < task.max_retries and not task.request.is_eager:
            raise task.retry(exc=exc, countdown=backoff_seconds(task.request.retries + 1, base=10, cap=300))
        logger.exception("engine job gave up on a transient error", extra={"job": job_id})
        _fail_quietly(fail, job_id, f"The job failed on an unavailable service ({type(exc).__name__})", run_id)
        return "failed"
    except Exception as exc:
        # Logged with its stack trace here; the owner reads only the error's type.
        logger.exception("engine job crashed", extra={"job": job_id})
        _fail_quietly(fail, job_id, f"The job failed unexpectedly ({type(exc).__name__})", run_id)
        return "failed"


def _job_rows(model) -> JobRows:
    """A lost job goes back to ``queued`` with no progress, for the watchdog to send again."""
    return JobRows(
        model=model,
        waiting={"status": JobStatus.QUEUED},
        running={"status": JobStatus.RUNNING},
        requeue={"status": JobStatus.QUEUED, "progress": 0},
    )


@job_task(
    soft_time_limit=conf.GENERATION_SOFT_TIME_LIMIT,
    rows=_job_rows(GenerationJob),
    max_retries=conf.TRANSIENT_RETRIES,
    bind=True,
)
def generation_job_run_task(self, job_id: str) -> str:
    """Generate, verify and store the dataset of one generation job."""
    return _run(self, generation_job_run, seam.generation_job_fail, job_id, conf.GENERATION_SOFT_TIME_LIMIT)


@job_task(
    soft_time_limit=conf.TRAINING_SOFT_TIME_LIMIT,
    rows=_job_rows(TrainingJob),
    max_retries=conf.TRANSIENT_RETRIES,
    bind=True,
)
def training_job_run_task(self, job_id: str) -> str:
    """Train, evaluate and store the model of one training job."""
    return _run(self, training_job_run, seam.training_job_fail, job_id, conf.TRAINING_SOFT_TIME_LIMIT)
