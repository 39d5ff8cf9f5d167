"""Running a generation job: what the Celery task calls (the task itself stays thin).

``generation_job_run`` drives one job through the marketplace's seam
(``marketplace.services.generation``): start, throttled progress, then complete with the verified
file, or fail with a message the owner can read. It is safe to run twice and after a crash:

- a job already completed or failed, or one that names another run id (the jobs watchdog gave it
  to another message, core/jobs.py), is left alone;
- the seed defaults to one derived from the job id, so a re-run writes the same bytes (same CID);
- rows go to a temporary file in the run's own work folder (``$VAR_DIR/tmp/jobs/<run id>``) that
  only ``generate`` verifies and only then is stored and handed to ``generation_job_complete``; a
  run killed half-way leaves at most that folder (emptied when its message is re-delivered, removed
  by the watchdog once the job has moved on), never a dataset marked ready;
- the runs of a job are counted in its row; a job whose runs died ``MAX_DELIVERIES`` times (worker
  killed each time) fails instead of looping forever.

Progress covers the whole run: writing (0-45 %), verification (45-90 %) and storage (90-99 %),
reported at most every ``PROGRESS_MIN_INTERVAL_SECONDS`` and whenever a percent is gained, so a
running job's progress never stands still for long (docs/marketplace-engine.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from core import storage
from core.errors import DomainError
from core.jobs import job_work_folder
from marketplace import engine
from marketplace.engine import conf
from marketplace.models import GenerationJob, JobStatus
from marketplace.services import generation as seam

logger = logging.getLogger(__name__)

# Where each part of a generation run sits on the 0-99 progress scale.
GENERATE_PROGRESS, STORE_PROGRESS = (0, 90), (90, 99)


class ProgressThrottle:
    """Calls ``report(percent)`` when the percent moved and ``interval`` seconds passed since the last call."""

    def __init__(self, report, *, interval: float, clock=time.monotonic) -> None:
        self.report, self.interval, self.clock = report, interval, clock
        self.last_time = float("-inf")
        self.last_percent = -1

    def __call__(self, done: int, total: int) -> None:
        self.percent(min(99, int(done * 100 / total)) if total else 99)

    def percent(self, percent: int) -> None:
        now = self.clock()
        if percent > self.last_percent and now - self.last_time >= self.interval:
            self.last_time, self.last_percent = now, percent
            self.report(percent)

    def phase(self, start: int, end: int) -> Callable[[int, int], None]:
        """A ``(done, total)`` callback for one part of the run, mapped onto ``start``-``end`` percent."""

        def report(done: int, total: int) -> None:
            self.percent(min(end, start + int((end - start) * done / total)) if total else end)

        return report


def run_started(model, *, start, fail, what: str, job_id: str, run_id: str, retries: int) -> tuple:
    """Start this run of a generation or training job: ``(job, "")`` when the run is to go on,
    ``(None, status to return)`` when the job is missing, over, another message's, or failed here
    because its runs were interrupted ``MAX_DELIVERIES`` times (the worker killed each time)."""
    if not model.objects.filter(pk=job_id).exists():
        return None, "missing"
    job = start(job_id=job_id, run_id=run_id)
    if job is None:
        return None, model.objects.values_list("status", flat=True).get(pk=job_id)
    interrupted = job.attempts - 1 - retries
    if interrupted >= conf.MAX_DELIVERIES:
        error = f"{what} was interrupted {interrupted} times (the worker stopped); giving up"
        fail(job_id=job_id, error=error, run_id=run_id)
        return None, JobStatus.FAILED
    return job, ""


def generation_job_run(*, job_id: str, run_id: str = "", retries: int = 0) -> str:
    """Run the job to completion or failure; returns the job's final (or current) status.

    ``run_id`` is the Celery message's id (empty for a direct call, which any active job accepts);
    ``retries`` how many of this job's runs were the task's own retries, not crashes. Two runs of
    one job never both proceed: only the message the job names starts it.
    """
    job, outcome = run_started(
        GenerationJob,
        start=seam.generation_job_start,
        fail=seam.generation_job_fail,
        what="Generation",
        job_id=job_id,
        run_id=run_id,
        retries=retries,
    )
    if job is None:
        return outcome
    progress = ProgressThrottle(
        lambda percent: seam.generation_job_progress(job_id=job_id, progress=percent, run_id=run_id),
        interval=conf.PROGRESS_MIN_INTERVAL_SECONDS,
    )
    with job_work_folder(run_id) as folder:
        try:
            request = engine.GenerationRequest.from_config(job.config, default_seed=engine.seed_for(str(job.pk)))
            outcome = engine.generate(request, directory=folder, on_progress=progress.phase(*GENERATE_PROGRESS))
        except DomainError as exc:
            seam.generation_job_fail(job_id=job_id, error=exc.message, run_id=run_id)
            return JobStatus.FAILED
        try:
            stored = storage.save_local_file(outcome.path, on_progress=progress.phase(*STORE_PROGRESS))
            seam.generation_job_complete(
                job_id=job_id,
                output=seam.GeneratedDataset(
                    content=None,
                    stored=stored,
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
