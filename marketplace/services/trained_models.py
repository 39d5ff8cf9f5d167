"""Writes about models: ask for a training (the model row and its queued job)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from core import errors
from marketplace.errors import DATASET_NOT_READY, PAYMENT_REQUIRED
from marketplace.models import Dataset, ModelTag, TrainedModel, TrainingJob
from marketplace.selectors.datasets import dataset_access_for
from marketplace.services.datasets import tags_normalize
from marketplace.services.generation import training_job_enqueue

# Seconds: a fixed start-up cost plus a share per row and epoch (a rough guide shown to users).
ESTIMATE_BASE_SECONDS = 60
ESTIMATE_ROWS_PER_SECOND = 2000


def training_time_estimate(*, rows: int, epochs: int) -> int:
    return ESTIMATE_BASE_SECONDS + (rows * max(1, epochs)) // ESTIMATE_ROWS_PER_SECOND


def provider_for(base_model: str) -> str:
    """``openai/gpt-4o-mini`` -> ``openai``; a bare name is trained by the platform itself."""
    return base_model.split("/", 1)[0].strip().lower() if "/" in base_model else "synthik"


def base_model_check(base_model: str) -> str:
    """The estimator ``base_model`` names (``sklearn/random-forest`` -> ``random-forest``).

    VALIDATION_ERROR naming the documented choices when it names none, so a request that could
    never train is refused before a model and a job exist.
    """
    # scikit-learn is loaded when a model is asked for, not whenever a web process starts.
    from marketplace.training import BASE_MODEL_NAMES, base_model_key

    try:
        return base_model_key(base_model)
    except errors.DomainError:
        choices = ", ".join(BASE_MODEL_NAMES)
        raise errors.VALIDATION(
            f"baseModel must be one of {choices} (optionally behind a provider prefix, e.g. sklearn/random-forest)",
            details={"baseModel": [f"must be one of {choices}"]},
        ) from None


@dataclass(frozen=True)
class ModelCreated:
    model: TrainedModel
    training_job: TrainingJob


@transaction.atomic
def model_create(
    *,
    user,
    name: str,
    description: str,
    dataset: Dataset,
    base_model: str,
    training_config: dict,
    tags: list[str],
    provider: str = "",
) -> ModelCreated:
    """Create a model in ``training`` status and its queued training job.

    ``base_model`` must name one of the documented estimators (VALIDATION_ERROR otherwise). The
    user must be allowed to download the dataset (creator, free, or bought: PAYMENT_REQUIRED
    otherwise) and the dataset must have its file (DATASET_NOT_READY otherwise). Every size of the
    training must be within its cap (VALIDATION_ERROR naming it), so nothing too big is ever queued.
    The training itself runs later, as a job (``training_job_enqueue``).
    """
    from marketplace.training.estimators import training_request_check

    base_model_check(base_model)
    if not dataset_access_for(user, [dataset]).can_download(dataset):
        raise PAYMENT_REQUIRED("Purchase the dataset before training on it")
    if dataset.status != Dataset.Status.READY or not dataset.full_cid:
        raise DATASET_NOT_READY("The dataset has no file to train on yet", details={"status": dataset.status})
    training_request_check(base_model=base_model, config=training_config, rows=dataset.rows)
    model = TrainedModel.objects.create(
        name=name,
        description=description,
        provider=(provider or provider_for(base_model))[:64],
        base_model=base_model,
        dataset=dataset,
        dataset_rows=dataset.rows,
        trained_by=user,
        status=TrainedModel.Status.TRAINING,
        training_config=training_config,
    )
    ModelTag.objects.bulk_create([ModelTag(model=model, name=tag) for tag in tags_normalize(tags)])
    job = TrainingJob.objects.create(
        model=model,
        user=user,
        estimated_time=training_time_estimate(rows=dataset.rows, epochs=training_config.get("epochs", 1)),
        config={
            "datasetId": str(dataset.pk),
            "datasetCID": dataset.full_cid,
            "baseModel": base_model,
            **training_config,
        },
    )
    training_job_enqueue(job=job)
    return ModelCreated(model=model, training_job=job)
