"""Writes about datasets: create (with its generation job), update, soft delete, star."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import errors
from marketplace import conf
from marketplace.engine.spec import Augmentation
from marketplace.models import (
    ACTIVE_JOB_STATUSES,
    Dataset,
    DatasetFile,
    DatasetStar,
    DatasetTag,
    DatasetTemplate,
    GenerationJob,
    Upload,
)
from marketplace.services import stats
from marketplace.services.dataset_schema import schema_validate
from marketplace.services.generation import generation_job_enqueue
from marketplace.services.pinning import dataset_files_pin_request
from marketplace.services.uploads import UPLOAD_LIMITS

MAX_TAGS = 20


def tags_normalize(tags: list[str]) -> list[str]:
    """Lower-case, trimmed, distinct tags in the order given."""
    seen: dict[str, None] = {}
    for tag in tags:
        clean = tag.strip().lower()[:50]
        if clean:
            seen.setdefault(clean, None)
    if len(seen) > MAX_TAGS:
        raise errors.VALIDATION(f"At most {MAX_TAGS} tags", details={"tags": [f"at most {MAX_TAGS}"]})
    return list(seen)


def _tags_replace(dataset: Dataset, tags: list[str]) -> None:
    DatasetTag.objects.filter(dataset=dataset).delete()
    DatasetTag.objects.bulk_create([DatasetTag(dataset=dataset, name=name) for name in tags])


@dataclass(frozen=True)
class DatasetCreated:
    dataset: Dataset
    generation_job: GenerationJob | None


def _active_generation_jobs_guard(user) -> None:
    # The user row lock serialises one user's concurrent creations, so the count below is exact.
    get_user_model().objects.select_for_update().filter(pk=user.pk).first()
    active = GenerationJob.objects.filter(user=user, status__in=ACTIVE_JOB_STATUSES).count()
    if active >= conf.MAX_ACTIVE_GENERATION_JOBS:
        raise errors.RATE_LIMITED(
            f"At most {conf.MAX_ACTIVE_GENERATION_JOBS} generation jobs may run at once; wait for one to finish",
            details={"limit": conf.MAX_ACTIVE_GENERATION_JOBS, "active": active},
        )


def _schema_for_upload(upload: Upload, schema: list | None) -> list[dict]:
    # Uploads are refused past the caps when they arrive; one stored before that rule is refused here.
    UPLOAD_LIMITS.check_columns(len(upload.inferred_schema))
    UPLOAD_LIMITS.check_rows(upload.rows or 0)
    if schema is None:
        return upload.inferred_schema
    clean = schema_validate(schema)
    declared = {field["name"].lower() for field in clean}
    columns = {field["name"].lower() for field in upload.inferred_schema}
    if declared != columns:
        raise errors.VALIDATION(
            "The schema must name exactly the uploaded file's columns",
            details={"schema": [f"columns are {sorted(columns)}"]},
        )
    return clean


@transaction.atomic
def dataset_create(
    *,
    creator,
    name: str,
    description: str,
    category: str,
    tags: list[str],
    visibility: str,
    license: str,
    price: Decimal,
    price_per_row: Decimal,
    currency: str,
    dataset_type: str,
    schema: list | None,
    template_id: str | None = None,
    upload_id=None,
    config: dict | None = None,
) -> DatasetCreated:
    """Create a dataset and, unless it is an upload, its queued generation job.

    - ``custom``: ``schema`` is required and validated.
    - ``template``: the template's schema unless ``schema`` overrides it.
    - ``upload``: the uploaded file (``upload_id``, the ``fileId`` of ``POST /storage/upload``)
      becomes the dataset's file at once; the dataset is ``ready`` and there is no job.

    A user may have at most ``MAX_ACTIVE_GENERATION_JOBS`` queued or running jobs (RATE_LIMITED).
    """
    config = dict(config or {})
    tags = tags_normalize(tags)
    template = None
    upload = None
    if dataset_type == Dataset.DatasetType.UPLOAD:
        upload = Upload.objects.filter(pk=upload_id, user=creator, type=Upload.Type.DATASET).first()
        if upload is None:
            raise errors.VALIDATION("fileId is not a dataset you uploaded", details={"fileId": ["unknown upload"]})
        schema = _schema_for_upload(upload, schema)
    elif dataset_type == Dataset.DatasetType.TEMPLATE:
        template = DatasetTemplate.objects.filter(pk=template_id or "", is_active=True).first()
        if template is None:
            raise errors.VALIDATION("templateId is not a known template", details={"templateId": ["unknown"]})
        schema = schema_validate(schema if schema else template.schema)
    else:
        if not schema:
            raise errors.VALIDATION("schema is required for a custom dataset", details={"schema": ["required"]})
        schema = schema_validate(schema)

    dataset = Dataset(
        creator=creator,
        name=name,
        description=description,
        category=category.strip().lower(),
        dataset_type=dataset_type,
        template=template,
        schema=schema,
        visibility=visibility,
        license=license,
        price=price,
        price_per_row=price_per_row,
        currency=currency,
    )
    if upload is not None:
        dataset.status = Dataset.Status.READY
        dataset.format = upload.format
        dataset.rows = upload.rows or 0
        dataset.size_bytes = upload.size_bytes
        dataset.full_cid = upload.cid
        dataset.preview_data = upload.preview_data[: conf.PREVIEW_ROWS]
        dataset.preview_rows = len(dataset.preview_data)
        dataset.generation_lineage = {"technique": "upload", "seedData": upload.filename, "augmentationSteps": []}
        dataset.save()
        _tags_replace(dataset, tags)
        full_file = DatasetFile.objects.create(
            dataset=dataset,
            kind=DatasetFile.Kind.FULL,
            format=upload.format,
            cid=upload.cid,
            size_bytes=upload.size_bytes,
        )
        dataset_files_pin_request(file_ids=[full_file.pk])
        return DatasetCreated(dataset=dataset, generation_job=None)

    _active_generation_jobs_guard(creator)
    augmentation = config.get("augmentation") or {"enabled": False}
    # The steps the engine will apply, in its own words ("variations:3", "noise:0.05"), defaults included.
    augmentation_steps = Augmentation.from_config(augmentation).steps
    dataset.status = Dataset.Status.GENERATING
    dataset.format = config["format"]
    dataset.rows = config["rows"]
    dataset.generation_lineage = {
        "model": config.get("model", ""),
        "technique": "template" if template else "schema",
        "seedData": template.pk if template else "",
        "augmentationSteps": augmentation_steps,
        "quality": config.get("quality", "balanced"),
        "verification": bool(config.get("verification", False)),
    }
    dataset.save()
    _tags_replace(dataset, tags)
    job = GenerationJob.objects.create(
        dataset=dataset,
        user=creator,
        config={
            "name": name,
            "description": description,
            "rows": config["rows"],
            "schema": schema,
            "format": config["format"],
            "quality": config.get("quality", "balanced"),
            "verification": bool(config.get("verification", False)),
            "augmentation": augmentation,
            "model": config.get("model", ""),
            "datasetType": dataset_type,
            **({"templateId": template.pk} if template else {}),
        },
    )
    generation_job_enqueue(job=job)
    return DatasetCreated(dataset=dataset, generation_job=job)


UPDATABLE_FIELDS = {"name", "description", "category", "visibility", "price", "license", "price_per_row"}


@transaction.atomic
def dataset_update(*, dataset: Dataset, tags: list[str] | None = None, **fields) -> Dataset:
    """Update the dataset's metadata (the caller has checked the user is its creator)."""
    unknown = set(fields) - UPDATABLE_FIELDS
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    if "category" in fields:
        fields["category"] = fields["category"].strip().lower()
    for name, value in fields.items():
        setattr(dataset, name, value)
    dataset.last_modified = timezone.now()
    dataset.save()
    if tags is not None:
        _tags_replace(dataset, tags_normalize(tags))
    return dataset


def dataset_soft_delete(*, dataset: Dataset) -> None:
    """Hide the dataset from everyone, buyers included; the row and its purchases stay for the record."""
    Dataset.objects.filter(pk=dataset.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), updated_at=timezone.now()
    )


@transaction.atomic
def dataset_star(*, user, dataset: Dataset, starred: bool) -> tuple[bool, int]:
    """Star or unstar; idempotent. Returns (starred, total stars)."""
    if starred:
        try:
            with transaction.atomic():
                DatasetStar.objects.create(user=user, dataset=dataset)
            changed = 1
        except IntegrityError:
            changed = 0
    else:
        deleted, _ = DatasetStar.objects.filter(user=user, dataset=dataset).delete()
        changed = -1 if deleted else 0
    if changed:
        Dataset.objects.filter(pk=dataset.pk).update(stars=F("stars") + changed)
        stats.dataset_star_record(dataset_id=dataset.pk, delta=changed)
    total = Dataset.objects.filter(pk=dataset.pk).values_list("stars", flat=True).get()
    return starred, total


def dataset_view_record(*, dataset: Dataset, viewer) -> None:
    """Count a detail view (creators looking at their own dataset are not counted)."""
    if viewer is not None and viewer.is_authenticated and viewer.pk == dataset.creator_id:
        return
    stats.dataset_view_record(dataset_id=dataset.pk)
