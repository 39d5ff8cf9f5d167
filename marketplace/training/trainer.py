"""Fitting a model on a dataset's rows, measured on a held-out split, saved as a skops file.

``training_plan`` checks what a job asks for (its knobs, its ``target``, the estimator) before any
row is read; ``train`` then fits the plan on a table of the dataset's rows and returns the model
file and its metrics, telling ``report(percent, metrics)`` how far it got (with the held-out
metrics so far where the estimator trains in passes or grows). Reading the dataset and storing
the file are the job runner's (``marketplace.services.training_runner``); nothing here touches the
database or storage.

Metrics: 20% of the rows (stratified when every class has two rows or more) are held out before
fitting; accuracy, and precision, recall and F1 averaged over classes weighted by their support
(``zero_division=0``), are measured on them only.

The model file is the fitted scikit-learn ``Pipeline`` (feature encoding + estimator) saved with
skops (``skops.io``), not pickle: the server never loads a model file at all, and a client can list
the types a file would create (``skops.io.get_untrusted_types``) and refuse anything unexpected
before loading it. Loading a pickle or joblib file can run arbitrary code.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import skops.io
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from marketplace.engine.errors import INVALID_TRAINING
from marketplace.engine.spec import FieldSpec
from marketplace.training.estimators import HELD_OUT_SHARE, TrainingSettings, estimator_for, settings_from
from marketplace.training.features import feature_transformer, training_data

READ_PROGRESS, FIT_START, FIT_END = 5, 10, 95

Report = Callable[[int, dict | None], None]


def held_out_metrics(labels: np.ndarray, predicted: np.ndarray) -> dict:
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "f1Score": float(f1_score(labels, predicted, average="weighted", zero_division=0)),
        "precision": float(precision_score(labels, predicted, average="weighted", zero_division=0)),
        "recall": float(recall_score(labels, predicted, average="weighted", zero_division=0)),
    }


@dataclass
class TrainingPlan:
    """A training checked and ready to fit: its knobs, the column to predict, the estimator."""

    config: dict
    seed: int
    settings: TrainingSettings
    target: str
    estimator: Any
    trainer: Callable
    started: float  # time.monotonic() when the job began, for ``trainingSeconds``


def training_plan(*, config: dict, base_model: str, seed: int) -> TrainingPlan:
    """The plan for a job's ``config`` and ``base_model``; INVALID_TRAINING when it cannot run."""
    started = time.monotonic()
    settings = settings_from(config, seed=seed)
    target = settings.hyperparameters.get("target")
    if not isinstance(target, str) or not target:
        raise INVALID_TRAINING(
            "trainingConfig.hyperparameters.target must name the column to predict", details={"target": target}
        )
    estimator, trainer = estimator_for(base_model, settings)
    return TrainingPlan(config, seed, settings, target, estimator, trainer, started)


def _additional_metrics(plan: TrainingPlan, data, classes, fitted, train_rows: int, test_rows: int) -> dict:
    config = plan.config
    return {
        "averaging": "weighted",
        "target": plan.target,
        "classes": [str(label) for label in classes],
        "trainRows": train_rows,
        "testRows": test_rows,
        "features": data.columns,
        "droppedColumns": data.dropped,
        "estimator": type(fitted).__name__,
        "hyperparameterMapping": plan.settings.mapping,
        "requested": {
            "epochs": config.get("epochs"),
            "batchSize": config.get("batchSize"),
            "learningRate": config.get("learningRate"),
        },
        "modelFormat": "skops",
        "trainingSeconds": round(time.monotonic() - plan.started, 3),
    }


def train(plan: TrainingPlan, *, table: pa.Table, fields: list[FieldSpec], report: Report) -> tuple[bytes, dict]:
    """Fit the plan on ``table`` (the dataset's rows, typed by ``fields``); returns (model file, metrics)."""
    report(READ_PROGRESS, None)
    data = training_data(table, fields, plan.target)
    classes = np.unique(data.labels)
    counts = np.unique(data.labels, return_counts=True)[1]
    stratify = data.labels if counts.min() >= 2 else None
    train_x, test_x, train_y, test_y = train_test_split(
        data.matrix_columns(), data.labels, test_size=HELD_OUT_SHARE, random_state=plan.seed, stratify=stratify
    )
    transformer = feature_transformer(data)
    train_features = transformer.fit_transform(train_x)
    test_features = transformer.transform(test_x)

    def step(fraction: float, fitted) -> None:
        metrics = held_out_metrics(test_y, fitted.predict(test_features)) if fraction < 1.0 else None
        report(FIT_START + int((FIT_END - FIT_START) * fraction), metrics)

    report(FIT_START, None)
    fitted = plan.trainer(plan.estimator, train_features, train_y, classes, plan.settings, step)
    metrics = held_out_metrics(test_y, fitted.predict(test_features))
    buffer = io.BytesIO()
    skops.io.dump(Pipeline([("features", transformer), ("model", fitted)]), buffer)
    metrics["additionalMetrics"] = _additional_metrics(plan, data, classes, fitted, len(train_y), len(test_y))
    return buffer.getvalue(), metrics
