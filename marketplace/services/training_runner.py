"""Running a training job: read the dataset, fit (``marketplace.training``), store the model.

``training_job_run`` drives one job through the marketplace's seam (``services.generation``):
``training_job_start``, ``training_job_progress`` (throttled, with the held-out metrics so far),
then ``training_job_complete`` with the model file and its metrics, or ``training_job_fail`` with
a message the owner can read. A job already finished is left alone; a re-run starts over and,
being seeded by the job id, fits the same model. What is fitted and measured, and how the file is
saved, is ``marketplace/training/trainer.py``.

Loads scikit-learn: the training task imports this module when it runs, not when a web process
loads the task registry.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from core import storage
from core.errors import DomainError
from core.jobs import job_work_folder
from marketplace.engine import checks, conf, seed_for
from marketplace.engine.spec import FieldSpec
from marketplace.engine.verification import read_batches
from marketplace.file_formats import read_table
from marketplace.models import Dataset, JobStatus, TrainingJob
from marketplace.services import generation as seam
from marketplace.services.generation_runner import run_started
from marketplace.training.trainer import Report, train, training_plan

logger = logging.getLogger(__name__)


def dataset_table(dataset: Dataset, cid: str, max_rows: int, folder: Path | None = None) -> pa.Table:
    """The first ``max_rows`` rows of the dataset's stored file, typed by its schema.

    The file is copied into ``folder`` (the run's work folder) and read from there. A Parquet file
    is read within ``MAX_DATASET_DECODED_BYTES`` (the rows it reads): past it, VALIDATION_ERROR.
    """
    specs = [FieldSpec.from_schema(field) for field in dataset.schema]
    schema = pa.schema([pa.field(spec.name, checks.arrow_type(spec.type)) for spec in specs])
    with contextlib.ExitStack() as cleanup:
        if folder is None:
            folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="training-")))
        path = folder / "dataset"
        with storage.open_cid(cid) as source, path.open("wb") as target:
            shutil.copyfileobj(source, target, storage.CHUNK_SIZE)
        try:
            # A stored Parquet file is held to the decoded-size cap here too (it may predate the
            # upload's check): past it, the DomainError fails the job with the upload's reason.
            batches = list(read_batches(path, schema, dataset.format, max_rows=max_rows))
            return pa.Table.from_batches(batches, schema=schema).slice(0, max_rows)
        except (pa.ArrowException, ValueError, KeyError):
            # An uploaded file whose columns do not follow the declared types: read it as it is.
            return read_table(path.read_bytes(), dataset.format).slice(0, max_rows)


def job_model_train(job: TrainingJob, report: Report, folder: Path | None = None) -> tuple[bytes, dict]:
    """Fit the job's model on its dataset; returns (model file, metrics).

    What the job asks for is checked before its dataset is read. ``folder``: where the dataset's
    file is copied while it is read (the run's work folder).
    """
    config = job.config
    plan = training_plan(
        config=config, base_model=config.get("baseModel") or job.model.base_model, seed=seed_for(str(job.pk)) % (2**32)
    )
    dataset = Dataset.objects.get(pk=config.get("datasetId") or job.model.dataset_id)
    table = dataset_table(dataset, config.get("datasetCID") or dataset.full_cid, conf.TRAINING_MAX_ROWS, folder)
    fields = [FieldSpec.from_schema(field) for field in dataset.schema]
    return train(plan, table=table, fields=fields, report=report)


def training_job_run(*, job_id: str, run_id: str = "", retries: int = 0) -> str:
    """Run the job to completion or failure; returns the job's final (or current) status.

    ``run_id`` and ``retries`` as for ``generation_job_run``: only the message the job names runs it.
    """
    job, outcome = run_started(
        TrainingJob,
        start=seam.training_job_start,
        fail=seam.training_job_fail,
        what="Training",
        job_id=job_id,
        run_id=run_id,
        retries=retries,
    )
    if job is None:
        return outcome
    throttle_state = {"last": 0.0}

    def report(percent: int, metrics: dict | None) -> None:
        now = time.monotonic()
        if now - throttle_state["last"] >= conf.PROGRESS_MIN_INTERVAL_SECONDS:
            throttle_state["last"] = now
            seam.training_job_progress(job_id=job_id, progress=percent, metrics=metrics, run_id=run_id)

    try:
        with job_work_folder(run_id) as folder:
            content, metrics = job_model_train(job, report, folder)
    except DomainError as exc:
        seam.training_job_fail(job_id=job_id, error=exc.message, run_id=run_id)
        return JobStatus.FAILED
    except FileNotFoundError:
        seam.training_job_fail(job_id=job_id, error="The dataset's file is missing from storage", run_id=run_id)
        return JobStatus.FAILED
    seam.training_job_complete(job_id=job_id, content=content, accuracy=metrics["accuracy"], metrics=metrics)
    with contextlib.suppress(Exception):
        logger.info("training job completed", extra={"job": job_id, "accuracy": metrics["accuracy"]})
    return JobStatus.COMPLETED
