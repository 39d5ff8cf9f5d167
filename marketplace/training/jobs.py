"""Running a training job: read the dataset, fit, measure on a held-out split, store the model.

``training_job_run`` drives one job through the marketplace's seam: ``training_job_start``,
``training_job_progress`` (throttled, with the held-out metrics so far where the estimator trains
in passes or grows), then ``training_job_complete`` with the model file and its metrics, or
``training_job_fail`` with a message the owner can read. A job already finished is left alone; a
re-run starts over and, being seeded by the job id, fits the same model.

Metrics: 20% of the rows (stratified when every class has two rows or more) are held out before
fitting; accuracy, and precision, recall and F1 averaged over classes weighted by their support
(``zero_division=0``), are measured on them only.

The model file is the fitted scikit-learn ``Pipeline`` (feature encoding + estimator) saved with
skops (``skops.io``), not pickle: the server never loads a model file at all, and a client can list
the types a file would create (``skops.io.get_untrusted_types``) and refuse anything unexpected
before loading it. Loading a pickle or joblib file can run arbitrary code.
"""

from __future__ import annotations

import contextlib
import io
import logging
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import skops.io
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from core import storage
from core.errors import DomainError
from core.jobs import job_work_folder
from marketplace.engine import checks, conf, seed_for
from marketplace.engine.errors import INVALID_TRAINING
from marketplace.engine.jobs import ProgressThrottle, run_started
from marketplace.engine.spec import FieldSpec
from marketplace.engine.verification import read_batches
from marketplace.models import Dataset, JobStatus, TrainingJob
from marketplace.services import generation as seam
from marketplace.services.file_formats import read_table
from marketplace.training.estimators import HELD_OUT_SHARE, estimator_for, settings_from
from marketplace.training.features import feature_transformer, training_data

logger = logging.getLogger(__name__)

READ_PROGRESS, FIT_START, FIT_END = 5, 10, 95


def held_out_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict:
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1Score": float(f1_score(labels, predicted, average="weighted", zero_division=0)),
        "precision": float(precision_score(labels, predicted, average="weighted", zero_division=0)),
        "recall": float(recall_score(labels, predicted, average="weighted", zero_division=0)),
    }


def dataset_table(dataset: Dataset, cid: str, max_rows: int, folder: Path | None = None) -> pa.Table:
    """The first ``max_rows`` rows of the dataset's stored file, typed by its schema.

    The file is copied into ``folder`` (the run's work folder) and read from there.
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
            batches, rows = [], 0
            for batch in read_batches(path, schema, dataset.format):
                batches.append(batch)
                rows += batch.num_rows
                if rows >= max_rows:
                    break
            return pa.Table.from_batches(batches, schema=schema).slice(0, max_rows)
        except (pa.ArrowException, ValueError, KeyError):
            # An uploaded file whose columns do not follow the declared types: read it as it is.
            return read_table(path.read_bytes(), dataset.format).slice(0, max_rows)


def train(job: TrainingJob, report, folder: Path | None = None) -> tuple[bytes, dict]:
    """Fit the job's model; returns (model file, metrics). ``report(percent, metrics)`` tells progress.

    ``folder``: where the dataset's file is copied while it is read (the run's work folder).
    """
    started = time.monotonic()
    config = job.config
    seed = seed_for(str(job.pk)) % (2**32)
    settings = settings_from(config, seed=seed)
    target = settings.hyperparameters.get("target")
    if not isinstance(target, str) or not target:
        raise INVALID_TRAINING(
            "trainingConfig.hyperparameters.target must name the column to predict", details={"target": target}
        )
    estimator, trainer = estimator_for(config.get("baseModel") or job.model.base_model, settings)
    dataset = Dataset.objects.get(pk=config.get("datasetId") or job.model.dataset_id)
    table = dataset_table(dataset, config.get("datasetCID") or dataset.full_cid, conf.TRAINING_MAX_ROWS, folder)
    report(READ_PROGRESS, None)
    data = training_data(table, [FieldSpec.from_schema(field) for field in dataset.schema], target)
    matrix = data.matrix_columns()
    classes = np.unique(data.labels)
    counts = np.unique(data.labels, return_counts=True)[1]
    stratify = data.labels if counts.min() >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(
        matrix, data.labels, test_size=HELD_OUT_SHARE, random_state=seed, stratify=stratify
    )
    transformer = feature_transformer(data)
    train_features = transformer.fit_transform(train_x)
    test_features = transformer.transform(test_x)

    def step(fraction: float, fitted) -> None:
        metrics = held_out_metrics(test_y, fitted.predict(test_features)) if fraction < 1.0 else None
        report(FIT_START + int((FIT_END - FIT_START) * fraction), metrics)

    report(FIT_START, None)
    fitted = trainer(estimator, train_features, train_y, classes, settings, step)
    metrics = held_out_metrics(test_y, fitted.predict(test_features))
    pipeline = Pipeline([("features", transformer), ("model", fitted)])
    buffer = io.BytesIO()
    skops.io.dump(pipeline, buffer)
    metrics["additionalMetrics"] = {
        "averaging": "weighted",
        "target": target,
        "classes": [str(label) for label in classes],
        "trainRows": len(train_y),
        "testRows": len(test_y),
        "features": data.columns,
        "droppedColumns": data.dropped,
        "estimator": type(fitted).__name__,
        "hyperparameterMapping": settings.mapping,
        "requested": {
            "epochs": config.get("epochs"),
            "batchSize": config.get("batchSize"),
            "learningRate": config.get("learningRate"),
        },
        "modelFormat": "skops",
        "trainingSeconds": round(time.monotonic() - started, 3),
    }
    return buffer.getvalue(), metrics


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
            content, metrics = train(job, report, folder)
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


__all__ = ["ProgressThrottle", "held_out_metrics", "train", "training_job_run"]
