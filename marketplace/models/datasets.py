"""Datasets: the row the listing shows, its tags, stored files, stars and per-day counters, and templates.

Counters the listing shows (views, downloads, stars, purchases) live on the row and are bumped with
``F()`` so concurrent requests never lose an increment; the per-day figures analytics and trending
need live in small counter tables keyed by (thing, day).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Currency(models.TextChoices):
    ETH = "ETH", "Ether"
    USD = "USD", "US dollar"


class FileFormat(models.TextChoices):
    JSON = "json", "JSON"
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"


class Quality(models.TextChoices):
    FAST = "fast", "Fast"
    BALANCED = "balanced", "Balanced"
    HIGH = "high", "High"


class DatasetTemplate(models.Model):
    """A ready-made schema a creator can start from (``datasetType: template``)."""

    id = models.SlugField(primary_key=True, max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=64)
    schema = models.JSONField(default=list)
    preview_data = models.JSONField(default=list, blank=True)
    use_cases = models.JSONField(default=list, blank=True)
    estimated_rows = models.PositiveIntegerField(default=1000)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# Where ``datasets_for_output`` puts a dataset's tag rows (``Prefetch(..., to_attr=...)``).
PREFETCHED_TAGS = "prefetched_tags"


class Dataset(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", "Public"
        PRIVATE = "private", "Private (creator only)"
        RESTRICTED = "restricted", "Restricted (unlisted, reachable by id)"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        GENERATING = "generating", "Generating"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        DEPRECATED = "deprecated", "Deprecated"

    class DatasetType(models.TextChoices):
        CUSTOM = "custom", "Custom schema"
        TEMPLATE = "template", "From a template"
        UPLOAD = "upload", "Uploaded file"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    creator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="marketplace_datasets")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=64, db_index=True)
    dataset_type = models.CharField(max_length=10, choices=DatasetType.choices, default=DatasetType.CUSTOM)
    template = models.ForeignKey(DatasetTemplate, null=True, blank=True, on_delete=models.SET_NULL)
    schema = models.JSONField(default=list)
    format = models.CharField(max_length=10, choices=FileFormat.choices, default=FileFormat.JSON)
    rows = models.PositiveIntegerField(default=0)
    tokens = models.PositiveBigIntegerField(default=0)
    size_bytes = models.PositiveBigIntegerField(default=0)
    visibility = models.CharField(max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC)
    license = models.CharField(max_length=100, blank=True)
    price = models.DecimalField(max_digits=36, decimal_places=18, default=Decimal(0))
    price_per_row = models.DecimalField(max_digits=36, decimal_places=18, default=Decimal(0))
    currency = models.CharField(max_length=3, choices=Currency.choices, default=Currency.ETH)
    is_verified = models.BooleanField(default=False)
    # Set by staff (there is no rating endpoint in the API); 0 means "not rated".
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal(0))
    downloads = models.PositiveIntegerField(default=0)
    views = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)
    stars = models.PositiveIntegerField(default=0)
    trending_score = models.FloatField(default=0.0, db_index=True)
    preview_rows = models.PositiveIntegerField(default=0)
    preview_data = models.JSONField(default=list, blank=True)
    preview_cid = models.CharField(max_length=100, blank=True)
    full_cid = models.CharField(max_length=100, blank=True)
    transaction_hash = models.CharField(max_length=66, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    generation_lineage = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_modified = models.DateTimeField(auto_now_add=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["visibility", "deleted_at", "-trending_score"], name="mkt_dataset_listing_idx"),
            models.Index(fields=["creator", "status"]),
            models.Index(fields=["-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="mkt_dataset_price_non_negative"),
            models.CheckConstraint(condition=Q(price_per_row__gte=0), name="mkt_dataset_price_per_row_non_negative"),
            models.CheckConstraint(condition=Q(rating__gte=0) & Q(rating__lte=5), name="mkt_dataset_rating_0_5"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_locked(self) -> bool:
        return self.price > 0

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def tag_names(self) -> list[str]:
        """Its tags' names, sorted. Read from ``prefetched_tags`` when the query that loaded it
        prefetched them there (``selectors.datasets.datasets_for_output``: a plain list, which spares
        Django's per-row related manager), else from ``tag_rows``."""
        rows = getattr(self, PREFETCHED_TAGS, None)
        if rows is None:
            rows = self.tag_rows.all()
        return sorted(tag.name for tag in rows)


class DatasetTag(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="tag_rows")
    name = models.CharField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="mkt_dataset_tag_unique")]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class DatasetFile(models.Model):
    """A stored rendition of a dataset: its full file in one format, or its preview.

    When an IPFS node is configured (``IPFS_API_URL``) the dataset's own files are also pinned
    there; ``pin_*`` record how that went. ``ipfs_cid`` is the CID the node pinned: ``cid`` itself
    for a file stored as one raw block, the root of the node's UnixFS DAG for a larger one.
    """

    class Kind(models.TextChoices):
        FULL = "full", "Full dataset"
        PREVIEW = "preview", "Preview"

    class PinStatus(models.TextChoices):
        NONE = "none", "Not pinned (no IPFS node configured)"
        PENDING = "pending", "Pending"
        PINNED = "pinned", "Pinned"
        FAILED = "failed", "Failed (gave up)"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="files")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FULL)
    format = models.CharField(max_length=10, choices=FileFormat.choices)
    cid = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    pin_status = models.CharField(max_length=10, choices=PinStatus.choices, default=PinStatus.NONE)
    ipfs_cid = models.CharField(max_length=100, blank=True)
    pin_attempts = models.PositiveSmallIntegerField(default=0)
    pin_error = models.CharField(max_length=255, blank=True)
    pin_next_attempt_at = models.DateTimeField(null=True, blank=True)
    pinned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "kind", "format"], name="mkt_dataset_file_unique"),
        ]
        indexes = [models.Index(fields=["pin_status", "pin_next_attempt_at"], name="mkt_dataset_file_pin_idx")]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.kind} {self.format}"


class DatasetStar(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="star_rows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "dataset"], name="mkt_dataset_star_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} * {self.dataset_id}"


def stats_day() -> date:
    """The (UTC) day the per-day counter tables (``DatasetDailyStats``, ``ModelDailyDownloads``) count in now."""
    return timezone.now().date()


class DatasetDailyStats(models.Model):
    """Views, downloads and stars of one dataset on one (UTC) day: analytics and trending read it."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="daily_stats")
    date = models.DateField()
    views = models.PositiveIntegerField(default=0)
    downloads = models.PositiveIntegerField(default=0)
    stars = models.IntegerField(default=0)  # net stars given that day (an unstar subtracts)

    class Meta:
        verbose_name_plural = "dataset daily stats"
        constraints = [models.UniqueConstraint(fields=["dataset", "date"], name="mkt_dataset_daily_unique")]

    def __str__(self) -> str:
        return f"{self.dataset_id} {self.date}"
