"""The engines' Celery tasks, registered under the names ``marketplace.tasks`` reserves for them.

Thin, as every task here: load by id, call the engine's job runner, decide about retries.

- ``acks_late`` (and the project's ``task_reject_on_worker_lost``): a worker killed mid-job leaves
  the message with the broker, which hands it out again; the runners start over from scratch and
  count deliveries, so a job is re-run or, after ``MAX_DELIVERIES``, failed. Never half-written.
- time limits: a soft limit (the run fails the job with a clear message) and a hard limit one
  minute later (the process is killed; re-delivery then applies).
- retries: only transient errors (database or storage unreachable) are retried, with backoff, at
  most ``TRANSIENT_RETRIES`` times; after that, and for any other error, the job fails with a
  message naming the error's type (never a stack trace), the error is logged, and the task ends
  normally (the job, not the task, carries the failure).
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError

from marketplace.engine import conf
from marketplace.services import generation as seam
from marketplace.tasks import GENERATION_JOB_RUN_TASK, TRAINING_JOB_RUN_TASK

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


def _fail_quietly(fail, job_id: str, error: str) -> None:
    try:
        fail(job_id=job_id, error=error)
    except TRANSIENT_ERRORS:
        logger.exception("could not mark the job failed", extra={"job": job_id})


def _run(task, runner, fail, job_id: str, limit: int) -> str:
    try:
        # A retry re-sends the same task id with ``retries`` one higher; a crash re-delivers the
        # same message unchanged. Counting per (id, retry) keeps retries from counting as crashes.
        return runner(job_id=job_id, message_id=f"{task.request.id or ''}:{task.request.retries}")
    except SoftTimeLimitExceeded:
        _fail_quietly(fail, job_id, f"The job ran past its time limit of {limit} seconds")
        return "failed"
    except TRANSIENT_ERRORS as exc:
        if task.request.retries < task.max_retries and not task.request.is_eager:
            raise task.retry(exc=exc, countdown=min(300, 10 * 2**task.request.retries))
        logger.exception("engine job gave up on a transient error", extra={"job": job_id})
        _fail_quietly(fail, job_id, f"The job failed on an unavailable service ({type(exc).__name__})")
        return "failed"
    except Exception as exc:
        # Logged with its stack trace here; the owner reads only the error's type.
        logger.exception("engine job crashed", extra={"job": job_id})
        _fail_quietly(fail, job_id, f"The job failed unexpectedly ({type(exc).__name__})")
        return "failed"


@shared_task(
    bind=True,
    name=GENERATION_JOB_RUN_TASK,
    acks_late=True,
    max_retries=conf.TRANSIENT_RETRIES,
    soft_time_limit=conf.GENERATION_SOFT_TIME_LIMIT,
    time_limit=conf.GENERATION_SOFT_TIME_LIMIT + 60,
)
def generation_job_run_task(self, job_id: str) -> str:
    """Generate, verify and store the dataset of one generation job."""
    return _run(self, generation_job_run, seam.generation_job_fail, job_id, conf.GENERATION_SOFT_TIME_LIMIT)


@shared_task(
    bind=True,
    name=TRAINING_JOB_RUN_TASK,
    acks_late=True,
    max_retries=conf.TRANSIENT_RETRIES,
    soft_time_limit=conf.TRAINING_SOFT_TIME_LIMIT,
    time_limit=conf.TRAINING_SOFT_TIME_LIMIT + 60,
)
def training_job_run_task(self, job_id: str) -> str:
    """Train, evaluate and store the model of one training job."""
    return _run(self, training_job_run, seam.training_job_fail, job_id, conf.TRAINING_SOFT_TIME_LIMIT)
