"""Generation and training jobs: the seam between the marketplace and its engines.

This module creates nothing by itself; ``datasets.dataset_create`` and ``trained_models.model_create``
create the job rows. Here live what an engine calls while it works, so the rules about a job's
effects stay in one place whoever runs it:

- ``generation_job_enqueue`` / ``training_job_enqueue`` hand a job to the engine's Celery task
  (names in ``marketplace.tasks``) after commit, through ``core.jobs``: the message carries the
  job's ``run_id``, and a job whose send failed stays ``queued`` until the jobs watchdog sends it
  again (as it does a running job whose heartbeat went stale: its worker died). In-process, until
  an engine registers that task, the job stays ``queued``: nothing pretends to generate.
- ``generation_job_start`` / ``_progress`` / ``_complete`` / ``_fail`` (and the ``training_job_*``
  ones) move a job along (start, progress and fail only for the run the job names), publish
  ``generation.progress`` / ``training.progress`` to its owner, and on completion store the
  result by CID, make the dataset or model ``ready`` and fire the ``dataset.generated`` /
  ``model.trained`` webhooks. Completing twice applies its effects once.
  A completed dataset's full file and preview are pinned on IPFS afterwards when a node is
  configured (``services.pinning``), never as part of the job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import IO

import orjson
from django.db import transaction
from django.utils import timezone

from core import storage
from core.jobs import job_enqueue
from marketplace import conf, events
from marketplace.file_formats import human_size
from marketplace.models import (
    ACTIVE_JOB_STATUSES,
    Dataset,
    DatasetFile,
    GenerationJob,
    JobStatus,
    TrainedModel,
    TrainingJob,
)
from marketplace.selectors.trained_models import training_datasets_visible_to
from marketplace.serializers.outputs import DatasetSerializer, GenerationJobSerializer, ModelSerializer
from marketplace.services.pinning import dataset_files_pin_request
from marketplace.services.webhooks import webhook_event_fire

logger = logging.getLogger(__name__)

# The engines' tasks (marketplace/tasks.py); each takes a job id.
GENERATION_JOB_RUN_TASK = "marketplace.generation_job_run_task"
TRAINING_JOB_RUN_TASK = "marketplace.training_job_run_task"


def generation_job_enqueue(*, job: GenerationJob) -> None:
    """After commit, hand the job to the generation engine's task under the job's run id.

    An unreachable broker (or, in-process, no engine installed) leaves the job ``queued``; the jobs
    watchdog (core/jobs.py) sends it again later.
    """
    job_enqueue(GENERATION_JOB_RUN_TASK, args=[str(job.pk)], task_id=job.run_id)


def training_job_enqueue(*, job: TrainingJob) -> None:
    """After commit, hand the job to the training engine's task under the job's run id."""
    job_enqueue(TRAINING_JOB_RUN_TASK, args=[str(job.pk)], task_id=job.run_id)


def _claim(job: GenerationJob | TrainingJob, run_id: str) -> bool:
    """Count a run's start if the job is its to run; False when it is over or another message's.

    A queued job starts; a running one whose message is this one was started by a run whose
    worker died (the broker re-delivered the message) and starts over from zero progress. Called
    with the job's row locked; ``run_id`` empty (a direct call) skips the message check.
    """
    if job.status not in ACTIVE_JOB_STATUSES or (run_id and job.run_id != run_id):
        return False
    job.status, job.progress, job.attempts = JobStatus.RUNNING, 0, job.attempts + 1
    job.started_at = job.started_at or timezone.now()
    job.save(update_fields=["status", "progress", "attempts", "started_at", "updated_at"])
    return True


def _lost_lease(job: GenerationJob | TrainingJob, run_id: str) -> bool:
    """The job was given to another message (the watchdog took it back from this run)."""
    return bool(run_id) and job.run_id != run_id


# --- generation ---------------------------------------------------------------------------------


def _locked_generation_job(job_id) -> GenerationJob:
    return GenerationJob.objects.select_for_update().select_related("dataset").get(pk=job_id)


@transaction.atomic
def generation_job_start(*, job_id, run_id: str = "") -> GenerationJob | None:
    """Start a run of the job (``_claim``): running, progress 0, one more attempt; the owner is told.

    None when there is nothing for this run to do: the job is finished, or ``run_id`` (the Celery
    message's id) is no longer the job's.
    """
    job = _locked_generation_job(job_id)
    if not _claim(job, run_id):
        return None
    events.generation_progress(job=job)
    return job


@transaction.atomic
def generation_job_progress(*, job_id, progress: int, run_id: str = "") -> GenerationJob:
    """Record progress (0-99, never backwards) of a running job and tell its owner.

    Also the job's heartbeat (``updated_at``). Ignored from a run the job no longer names.
    """
    job = _locked_generation_job(job_id)
    progress = max(0, min(99, int(progress)))
    if job.status == JobStatus.RUNNING and progress > job.progress and not _lost_lease(job, run_id):
        job.progress = progress
        job.save(update_fields=["progress", "updated_at"])
        events.generation_progress(job=job)
    return job


@dataclass(frozen=True)
class GeneratedDataset:
    """What an engine hands over: the full file in the job's format, plus figures about it.

    ``verification`` is the engine's report on the re-read file (``checkedRows``, ``violations``,
    ``full``, ``violationsByField``, ``problems``); it goes into the job's ``result`` as it is.
    """

    content: bytes | IO[bytes] | None
    rows: int
    preview: list[dict]
    tokens: int = 0
    generation_time: float = 0.0
    cost: float = 0.0
    verification: dict | None = None
    # The file already stored (by a runner that reports progress while storing): content is unused.
    stored: storage.StoredFile | None = None


def _generated_files_record(
    dataset: Dataset, *, file_format: str, stored: storage.StoredFile, preview_file: storage.StoredFile
) -> None:
    """The dataset's full file and its preview as ``DatasetFile`` rows, to be pinned once committed."""
    full_row, _ = DatasetFile.objects.update_or_create(
        dataset=dataset,
        kind=DatasetFile.Kind.FULL,
        format=file_format,
        defaults={"cid": stored.cid, "size_bytes": stored.size},
    )
    preview_row, _ = DatasetFile.objects.update_or_create(
        dataset=dataset,
        kind=DatasetFile.Kind.PREVIEW,
        format="json",
        defaults={"cid": preview_file.cid, "size_bytes": preview_file.size},
    )
    # Optional (IPFS_API_URL): pinned by a task after commit; the job never waits for it.
    dataset_files_pin_request(file_ids=[full_row.pk, preview_row.pk])


def _dataset_ready(
    dataset: Dataset,
    *,
    file_format: str,
    output: GeneratedDataset,
    stored: storage.StoredFile,
    preview_file: storage.StoredFile,
    preview: list[dict],
) -> None:
    dataset.status = Dataset.Status.READY
    dataset.format = file_format
    dataset.rows, dataset.tokens, dataset.size_bytes = output.rows, output.tokens, stored.size
    dataset.full_cid, dataset.preview_cid = stored.cid, preview_file.cid
    dataset.preview_data, dataset.preview_rows = preview, len(preview)
    dataset.last_modified = timezone.now()
    dataset.save()


def _dataset_generated_webhook_fire(job: GenerationJob, *, size_bytes: int) -> None:
    dataset = (
        Dataset.objects.select_related("creator__wallet_profile").prefetch_related("tag_rows").get(pk=job.dataset_id)
    )
    webhook_event_fire(
        user_id=job.user_id,
        event="dataset.generated",
        data={
            "dataset": DatasetSerializer(dataset).data,
            "job": GenerationJobSerializer(job).data,
            "size": human_size(size_bytes),
        },
    )


@transaction.atomic
def generation_job_complete(*, job_id, output: GeneratedDataset) -> GenerationJob:
    """Store the generated file by CID, make the dataset ready, and tell the owner and their webhooks.

    The job's ``result`` (with the verification report) is in the ``dataset.generated`` payload's
    ``job``. Completing a job that is already over changes nothing.
    """
    job = _locked_generation_job(job_id)
    if job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        return job
    stored = output.stored or (
        storage.save_bytes(output.content) if isinstance(output.content, bytes) else storage.save_stream(output.content)
    )
    preview = output.preview[: conf.PREVIEW_ROWS]
    preview_file = storage.save_bytes(orjson.dumps(preview))
    dataset = Dataset.objects.select_for_update().get(pk=job.dataset_id)
    file_format = job.config.get("format") or dataset.format
    _generated_files_record(dataset, file_format=file_format, stored=stored, preview_file=preview_file)
    _dataset_ready(
        dataset, file_format=file_format, output=output, stored=stored, preview_file=preview_file, preview=preview
    )
    job.status, job.progress, job.completed_at = JobStatus.COMPLETED, 100, dataset.last_modified
    job.result = {
        "generatedRows": output.rows,
        "filecoinCID": stored.cid,
        "previewCID": preview_file.cid,
        "generationTime": output.generation_time,
        "cost": output.cost,
        "verification": output.verification,
    }
    job.save()
    events.generation_progress(job=job)
    _dataset_generated_webhook_fire(job, size_bytes=stored.size)
    return job


@transaction.atomic
def generation_job_fail(*, job_id, error: str, run_id: str = "") -> GenerationJob:
    """Mark the job and its dataset failed with a message the owner may read.

    Not from a run the job no longer names: the job is another run's now, and may yet succeed.
    """
    job = _locked_generation_job(job_id)
    if job.status in (JobStatus.COMPLETED, JobStatus.FAILED) or _lost_lease(job, run_id):
        return job
    job.status, job.error, job.completed_at = JobStatus.FAILED, error[:2000], timezone.now()
    job.save()
    Dataset.objects.filter(pk=job.dataset_id).update(status=Dataset.Status.FAILED, updated_at=timezone.now())
    events.generation_progress(job=job, failed=True)
    return job


# --- training -----------------------------------------------------------------------------------


def _locked_training_job(job_id) -> TrainingJob:
    return TrainingJob.objects.select_for_update().select_related("model").get(pk=job_id)


@transaction.atomic
def training_job_start(*, job_id, run_id: str = "") -> TrainingJob | None:
    """Start a run of the training job (as ``generation_job_start``); None when it is not this run's."""
    job = _locked_training_job(job_id)
    if not _claim(job, run_id):
        return None
    events.training_progress(job=job, model=job.model)
    return job


@transaction.atomic
def training_job_progress(*, job_id, progress: int, metrics: dict | None = None, run_id: str = "") -> TrainingJob:
    """Record progress (and interim metrics) of a running training and tell its owner (its heartbeat too)."""
    job = _locked_training_job(job_id)
    progress = max(0, min(99, int(progress)))
    if job.status == JobStatus.RUNNING and progress >= job.progress and not _lost_lease(job, run_id):
        job.progress = progress
        job.save(update_fields=["progress", "updated_at"])
        model = job.model
        if metrics:
            model.metrics = {**model.metrics, **metrics}
            model.save(update_fields=["metrics", "updated_at"])
        events.training_progress(job=job, model=model)
    return job


@transaction.atomic
def training_job_complete(*, job_id, content: bytes | IO[bytes], accuracy: float | None, metrics: dict) -> TrainingJob:
    """Store the trained weights by CID, make the model ready, tell the owner and their webhooks."""
    job = _locked_training_job(job_id)
    if job.status in (JobStatus.COMPLETED, JobStatus.FAILED):
        return job
    stored = storage.save_bytes(content) if isinstance(content, bytes) else storage.save_stream(content)
    now = timezone.now()
    model = TrainedModel.objects.select_for_update().get(pk=job.model_id)
    model.status, model.filecoin_cid, model.trained_date = TrainedModel.Status.READY, stored.cid, now
    model.accuracy, model.metrics = accuracy, metrics
    model.save()
    job.status, job.progress, job.completed_at = JobStatus.COMPLETED, 100, now
    job.save()
    events.training_progress(job=job, model=model)
    model = (
        TrainedModel.objects.select_related("trained_by__wallet_profile").prefetch_related("tag_rows").get(pk=model.pk)
    )
    shown = training_datasets_visible_to(user=model.trained_by, models=[model])
    model_data = ModelSerializer(model, context={"training_datasets_shown": shown}).data
    webhook_event_fire(user_id=job.user_id, event="model.trained", data={"model": model_data})
    return job


@transaction.atomic
def training_job_fail(*, job_id, error: str, run_id: str = "") -> TrainingJob:
    """Mark the job and its model failed (not from a run the job no longer names)."""
    job = _locked_training_job(job_id)
    if job.status in (JobStatus.COMPLETED, JobStatus.FAILED) or _lost_lease(job, run_id):
        return job
    job.status, job.error, job.completed_at = JobStatus.FAILED, error[:2000], timezone.now()
    job.save()
    TrainedModel.objects.filter(pk=job.model_id).update(status=TrainedModel.Status.FAILED, updated_at=timezone.now())
    events.training_progress(job=job, model=job.model)
    return job
