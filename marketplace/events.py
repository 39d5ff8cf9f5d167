"""The events the marketplace sends to a user's sockets (``/marketplace/ws``), built by their serializers.

Each is published through ``core.realtime.publish``, so an event raised inside a transaction goes
out only once it commits, and only to the sockets of the user concerned (a job's owner, a
dataset's creator, a model's trainer). ``MarketplaceEventsConsumer`` relays them.
"""

from __future__ import annotations

from core.realtime import publish
from marketplace.models import GenerationJob, TrainedModel, TrainingJob
from marketplace.serializers.events import (
    DatasetPurchasedEventSerializer,
    GenerationProgressEventSerializer,
    ModelDownloadedEventSerializer,
    TrainingProgressEventSerializer,
)

GENERATION_PROGRESS = "generation.progress"
TRAINING_PROGRESS = "training.progress"
DATASET_PURCHASED = "dataset.purchased"
MODEL_DOWNLOADED = "model.downloaded"


def generation_progress(*, job: GenerationJob, failed: bool = False) -> None:
    """The job's progress and status to its owner; with the error the owner may read once it ``failed``."""
    event = {"job_id": job.pk, "dataset_id": job.dataset_id, "progress": job.progress, "status": job.status}
    if failed:
        event["error"] = job.error
    publish(job.user_id, GENERATION_PROGRESS, dict(GenerationProgressEventSerializer(event).data))


def training_progress(*, job: TrainingJob, model: TrainedModel) -> None:
    """The training's progress and status, with the model's metrics so far, to its owner."""
    event = {
        "model_id": model.pk,
        "job_id": job.pk,
        "progress": job.progress,
        "status": job.status,
        "metrics": model.metrics or {},
    }
    publish(job.user_id, TRAINING_PROGRESS, dict(TrainingProgressEventSerializer(event).data))


def dataset_purchased(*, creator_id, dataset_id, purchaser_id) -> None:
    """To the dataset's creator: someone bought it."""
    event = {"dataset_id": dataset_id, "purchaser_id": purchaser_id}
    publish(creator_id, DATASET_PURCHASED, dict(DatasetPurchasedEventSerializer(event).data))


def model_downloaded(*, trainer_id, model_id, downloader_id) -> None:
    """To the model's trainer: someone downloaded it."""
    event = {"model_id": model_id, "downloader_id": downloader_id}
    publish(trainer_id, MODEL_DOWNLOADED, dict(ModelDownloadedEventSerializer(event).data))
