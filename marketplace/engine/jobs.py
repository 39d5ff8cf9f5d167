"""Running a generation job: what the Celery task calls (the task itself stays thin).

``generation_job_run`` drives one job through the marketplace's seam
(``marketplace.services.generation``): start, throttled progress, then complete with the verified
file, or fail with a message the owner can read. It is safe to run twice and after a crash:

- a job already completed or failed is left alone;
- the seed defaults to one derived from the job id, so a re-run writes the same bytes (same CID);
- rows go to a temporary file that only ``generate`` verifies and only then hands to
  ``generation_job_complete``; a run killed half-way leaves at most a stale temporary file
  (removed by later runs), never a dataset marked ready;
- the deliveries of each message are counted (in the cache: Redis on the full stack); a job
  whose worker died ``MAX_DELIVERIES`` times on the same message fails instead of looping forever.
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
import time
from pathlib import Path

from django.core.cache import cache

from core.errors import DomainError
from marketplace import engine
from marketplace.engine import conf
from marketplace.models import GenerationJob, JobStatus
from marketplace.services import generation as seam

logger = logging.getLogger(__name__)

STALE_FILE_SECONDS = 2 * 3600
DELIVERY_COUNT_TTL_SECONDS = 7 * 24 * 3600


class ProgressThrottle:
    """Calls ``report(percent)`` when the percent moved and ``interval`` seconds passed since the last call."""

    def __init__(self, report, *, interval: float, clock=time.monotonic) -> None:
        self.report, self.interval, self.clock = report, interval, clock
        self.last_time = float("-inf")
        self.last_percent = -1

    def __call__(self, done: int, total: int) -> None:
        percent = min(99, int(done * 100 / total)) if total else 99
        now = self.clock()
        if percent > self.last_percent and now - self.last_time >= self.interval:
            self.last_time, self.last_percent = now, percent
            self.report(percent)


def delivery_count(kind: str, job_id: str, message_id: str) -> int:
    """How many times this message of this job's task started (this start included).

    Counted per message: the broker re-delivers the same message (same task id) after a worker
    died, while a job sent again on purpose (the marketplace's upkeep re-sends jobs left queued)
    is a new message with a count of its own, so duplicates never count as crashes.
    """
    key = f"marketplace:engine:{kind}:deliveries:{job_id}:{message_id}"
    if cache.add(key, 1, timeout=DELIVERY_COUNT_TTL_SECONDS):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=DELIVERY_COUNT_TTL_SECONDS)
        return 1


def remove_stale_files(directory: str | None) -> None:
    """Temporary files left by runs killed mid-way (older than any run may last)."""
    folder = Path(directory or tempfile.gettempdir())
    cutoff = time.time() - STALE_FILE_SECONDS
    for path in folder.glob("generation-*.partial"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()


def generation_job_run(*, job_id: str, message_id: str = "") -> str:
    """Run the job to completion or failure; returns the job's final (or current) status.

    ``message_id`` (the Celery task id) identifies the delivery, see ``delivery_count``. Two
    messages of one job may run at once (a re-sent job): both write the same bytes and the seam
    completes the job once.
    """
    job = GenerationJob.objects.filter(pk=job_id).first()
    if job is None or job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        return job.status if job else "missing"
    deliveries = delivery_count("generation", job_id, message_id)
    if deliveries > conf.MAX_DELIVERIES:
        seam.generation_job_fail(
            job_id=job_id, error=f"Generation was interrupted {deliveries - 1} times (the worker stopped); giving up"
        )
        return JobStatus.FAILED
    remove_stale_files(conf.WORK_DIR)
    seam.generation_job_start(job_id=job_id)
    try:
        request = engine.GenerationRequest.from_config(job.config, default_seed=engine.seed_for(str(job.pk)))
        throttle = ProgressThrottle(
            lambda percent: seam.generation_job_progress(job_id=job_id, progress=percent),
            interval=conf.PROGRESS_MIN_INTERVAL_SECONDS,
        )
        outcome = engine.generate(request, directory=conf.WORK_DIR, on_progress=throttle)
    except DomainError as exc:
        seam.generation_job_fail(job_id=job_id, error=exc.message)
        return JobStatus.FAILED
    try:
        with outcome.path.open("rb") as content:
            seam.generation_job_complete(
                job_id=job_id,
                output=seam.GeneratedDataset(
                    content=content,
                    rows=outcome.rows,
                    preview=outcome.preview,
                    tokens=outcome.tokens,
                    generation_time=outcome.generation_time,
                    cost=outcome.cost,
                    verification=outcome.verification.as_dict(),
                ),
            )
    finally:
        outcome.discard()
    logger.info(
        "generation job completed",
        extra={"job": job_id, "rows": outcome.rows, "seconds": outcome.generation_time},
    )
    return JobStatus.COMPLETED
