"""Download grants: who may fetch a dataset or model file, in which format, through which signed link."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from accounts.tokens import download_link_issue
from core import storage
from marketplace import conf, events
from marketplace.authentication import PRODUCT
from marketplace.errors import DATASET_NOT_READY, MODEL_NOT_READY, PAYMENT_REQUIRED
from marketplace.file_formats import CONTENT_TYPES, EXTENSIONS, read_table, write_table
from marketplace.models import Dataset, DatasetFile, TrainedModel
from marketplace.selectors.datasets import dataset_access_for
from marketplace.services import stats

DATASET_SUBJECT = "dataset"
MODEL_SUBJECT = "model"


@dataclass(frozen=True)
class DownloadOffer:
    token: str
    expires_at: datetime
    format: str
    size_bytes: int


def _file_in_format(dataset: Dataset, file_format: str) -> DatasetFile:
    """The dataset's full file in ``file_format``, converted (and kept) on first request."""
    full_files = {item.format: item for item in DatasetFile.objects.filter(dataset=dataset, kind=DatasetFile.Kind.FULL)}
    if file_format in full_files:
        return full_files[file_format]
    if not full_files:
        raise DATASET_NOT_READY(
            "The dataset has no file yet: it is still being generated (or its generation failed)",
            details={"status": dataset.status},
        )
    source = full_files.get(dataset.format) or next(iter(full_files.values()))
    table = read_table(storage.read_bytes(source.cid), source.format)
    stored = storage.save_bytes(write_table(table, file_format))
    try:
        with transaction.atomic():
            return DatasetFile.objects.create(
                dataset=dataset, kind=DatasetFile.Kind.FULL, format=file_format, cid=stored.cid, size_bytes=stored.size
            )
    except IntegrityError:  # converted concurrently by another request
        return DatasetFile.objects.get(dataset=dataset, kind=DatasetFile.Kind.FULL, format=file_format)


def dataset_download_grant(*, user, dataset: Dataset, file_format: str | None) -> DownloadOffer:
    """A signed, expiring link to the dataset's file for the creator, free datasets, and buyers.

    PAYMENT_REQUIRED for anyone else; DATASET_NOT_READY while the dataset has no file. Each grant
    counts as one download.
    """
    access = dataset_access_for(user, [dataset])
    if not access.can_download(dataset):
        raise PAYMENT_REQUIRED(
            "Purchase this dataset to download it",
            details={"price": float(dataset.price), "currency": dataset.currency},
        )
    file_format = file_format or dataset.format
    dataset_file = _file_in_format(dataset, file_format)
    filename = f"{slugify(dataset.name) or 'dataset'}.{EXTENSIONS[file_format]}"
    token, grant = download_link_issue(
        product=PRODUCT,
        cid=dataset_file.cid,
        filename=filename,
        content_type=CONTENT_TYPES[file_format],
        ttl_seconds=conf.DOWNLOAD_URL_TTL_SECONDS,
        subject=f"{DATASET_SUBJECT}:{dataset.pk}",
    )
    if not access.is_creator(dataset):
        stats.dataset_download_record(dataset_id=dataset.pk)
    return DownloadOffer(
        token=token, expires_at=grant.expires_at, format=file_format, size_bytes=dataset_file.size_bytes
    )


def model_download_grant(*, user, model: TrainedModel) -> DownloadOffer:
    """A signed link to a ready model's weights; counts a download and tells the trainer."""
    if model.status != TrainedModel.Status.READY or not model.filecoin_cid:
        raise MODEL_NOT_READY("The model has no file yet", details={"status": model.status})
    token, grant = download_link_issue(
        product=PRODUCT,
        cid=model.filecoin_cid,
        filename=f"{slugify(model.name) or 'model'}.bin",
        content_type="application/octet-stream",
        ttl_seconds=conf.DOWNLOAD_URL_TTL_SECONDS,
        subject=f"{MODEL_SUBJECT}:{model.pk}",
    )
    if user.pk != model.trained_by_id:
        stats.model_download_record(model_id=model.pk)
        events.model_downloaded(trainer_id=model.trained_by_id, model_id=model.pk, downloader_id=user.pk)
    return DownloadOffer(
        token=token, expires_at=grant.expires_at, format="binary", size_bytes=storage.size_of(model.filecoin_cid)
    )


def download_subject_exists(subject: str) -> bool:
    """Whether what a link's file belongs to still exists: a link stops working once its dataset is
    deleted (or its model removed), not only when it expires. A link naming nothing is refused."""
    kind, _, pk = subject.partition(":")
    try:
        if kind == DATASET_SUBJECT:
            return Dataset.objects.filter(pk=pk, deleted_at__isnull=True).exists()
        if kind == MODEL_SUBJECT:
            return TrainedModel.objects.filter(pk=pk).exists()
    except ValidationError:  # not a UUID: a link no grant of ours made
        return False
    return False
