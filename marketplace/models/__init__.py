"""Synthik marketplace tables, one module per domain: users, datasets, trained models, jobs,
purchases, uploads, webhooks. Import them from here (``from marketplace.models import Dataset``).
"""

from marketplace.models.datasets import (
    Currency,
    Dataset,
    DatasetDailyStats,
    DatasetFile,
    DatasetStar,
    DatasetTag,
    DatasetTemplate,
    FileFormat,
    Quality,
    stats_day,
)
from marketplace.models.jobs import ACTIVE_JOB_STATUSES, GenerationJob, Job, JobStatus, TrainingJob
from marketplace.models.purchases import Purchase
from marketplace.models.trained_models import ModelDailyDownloads, ModelTag, TrainedModel
from marketplace.models.uploads import Upload
from marketplace.models.users import UsedSiweNonce, WalletProfile
from marketplace.models.webhooks import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint, WebhookEvent

__all__ = [
    "ACTIVE_JOB_STATUSES",
    "Currency",
    "Dataset",
    "DatasetDailyStats",
    "DatasetFile",
    "DatasetStar",
    "DatasetTag",
    "DatasetTemplate",
    "FileFormat",
    "GenerationJob",
    "Job",
    "JobStatus",
    "ModelDailyDownloads",
    "ModelTag",
    "Purchase",
    "Quality",
    "TrainedModel",
    "TrainingJob",
    "Upload",
    "UsedSiweNonce",
    "WalletProfile",
    "WebhookDelivery",
    "WebhookDeliveryAttempt",
    "WebhookEndpoint",
    "WebhookEvent",
    "stats_day",
]
