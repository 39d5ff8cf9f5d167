"""Synthik marketplace tables: datasets and their files, jobs, purchases, models, uploads, webhooks.

Counters the listing shows (views, downloads, stars, purchases) live on the row and are bumped with
``F()`` so concurrent requests never lose an increment; the per-day figures analytics and trending
need live in small counter tables keyed by (thing, day).
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.jobs import new_run_id


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


class WalletProfile(models.Model):
    """What the marketplace knows of a user beyond the shared account: the signed-in wallet."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="wallet_profile")
    # EIP-55 checksum form; compared case-insensitively through ``wallet_address_lower``.
    wallet_address = models.CharField(max_length=42)
    wallet_address_lower = models.CharField(max_length=42, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.wallet_address

    def save(self, *args, **kwargs):
        self.wallet_address_lower = self.wallet_address.lower()
        super().save(*args, **kwargs)


class UsedSiweNonce(models.Model):
    """A Sign-In with Ethereum nonce that a wallet used once and may never use again."""

    nonce = models.CharField(max_length=128)
    wallet_address = models.CharField(max_length=42)
    used_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["used_at"])]
        constraints = [
            models.UniqueConstraint(fields=["wallet_address", "nonce"], name="marketplace_siwe_nonce_per_wallet"),
        ]

    def __str__(self) -> str:
        return self.nonce


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


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class Job(models.Model):
    """What every engine job has: an owner, a status moving queued -> running -> done, progress."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    config = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    # The id of the Celery message that may run the job (core/jobs.py): a re-delivery of it takes
    # the job over, any other message finds nothing to do. The watchdog gives a lost job a new one.
    run_id = models.CharField(max_length=64, default=new_run_id, editable=False)
    # Runs started (re-deliveries and watchdog re-sends included); past the limit the job fails.
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    # Also the job's heartbeat: every progress report and the running task's beat move it.
    updated_at = models.DateTimeField(auto_now=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    kind = ""  # "generation" or "training", for display

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["user", "status"]),
            models.Index(fields=["status", "updated_at"], name="mkt_%(class)s_watch"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} ({self.status})"


class GenerationJob(Job):
    """One generation of a dataset. Created queued; the generation engine runs it (issue 6)."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="generation_jobs")
    result = models.JSONField(null=True, blank=True)

    kind = "generation"

    class Meta(Job.Meta):
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="mkt_generation_progress_0_100")]


class Purchase(models.Model):
    class PaymentMethod(models.TextChoices):
        CRYPTO = "crypto", "Ethereum transaction"
        STRIPE = "stripe", "Stripe PaymentIntent"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="purchase_rows")
    buyer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="marketplace_purchases")
    amount = models.DecimalField(max_digits=36, decimal_places=18)
    currency = models.CharField(max_length=3, choices=Currency.choices)
    payment_method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    # The Ethereum transaction hash (lower case) or the Stripe PaymentIntent id; never used twice.
    transaction_hash = models.CharField(max_length=255, unique=True)
    payee_address = models.CharField(max_length=42, blank=True)
    block_number = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    failure_reason = models.CharField(max_length=255, blank=True)
    check_attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["buyer", "dataset", "status"]),
            models.Index(fields=["dataset", "status", "completed_at"]),
        ]
        constraints = [
            # One completed purchase of a dataset per buyer.
            models.UniqueConstraint(
                fields=["buyer", "dataset"], condition=Q(status="completed"), name="mkt_purchase_one_completed"
            ),
        ]

    def __str__(self) -> str:
        return f"purchase {self.id} ({self.status})"


class TrainedModel(models.Model):
    """A model trained on a marketplace dataset (the spec's ``Model``)."""

    class Status(models.TextChoices):
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"
        DEPRECATED = "deprecated", "Deprecated"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    provider = models.CharField(max_length=64, db_index=True)
    base_model = models.CharField(max_length=200)
    dataset = models.ForeignKey(Dataset, null=True, on_delete=models.SET_NULL, related_name="trained_models")
    dataset_rows = models.PositiveIntegerField(default=0)
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="marketplace_models"
    )
    trained_date = models.DateTimeField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True)
    downloads = models.PositiveIntegerField(default=0)
    stars = models.PositiveIntegerField(default=0)
    filecoin_cid = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.TRAINING, db_index=True)
    metrics = models.JSONField(default=dict, blank=True)
    training_config = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "model"
        indexes = [models.Index(fields=["trained_by", "-created_at"]), models.Index(fields=["-downloads"])]

    def __str__(self) -> str:
        return self.name


class ModelTag(models.Model):
    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="tag_rows")
    name = models.CharField(max_length=50)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["model", "name"], name="mkt_model_tag_unique")]
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name


class ModelDailyDownloads(models.Model):
    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="daily_downloads")
    date = models.DateField()
    downloads = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "model daily downloads"
        constraints = [models.UniqueConstraint(fields=["model", "date"], name="mkt_model_daily_unique")]

    def __str__(self) -> str:
        return f"{self.model_id} {self.date}"


class TrainingJob(Job):
    """One training of a model. Created queued; the training engine runs it (issue 6)."""

    model = models.ForeignKey(TrainedModel, on_delete=models.CASCADE, related_name="training_jobs")
    estimated_time = models.PositiveIntegerField(help_text="Estimated seconds of training")

    kind = "training"

    class Meta(Job.Meta):
        constraints = [models.CheckConstraint(condition=Q(progress__lte=100), name="mkt_training_progress_0_100")]


class Upload(models.Model):
    """A file a user uploaded (``POST /storage/upload``), kept by content address."""

    class Type(models.TextChoices):
        DATASET = "dataset", "Dataset"
        SCHEMA = "schema", "Schema"
        TEMPLATE = "template", "Template"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketplace_uploads")
    type = models.CharField(max_length=10, choices=Type.choices)
    filename = models.CharField(max_length=255)
    size_bytes = models.PositiveBigIntegerField()
    content_type = models.CharField(max_length=100)
    format = models.CharField(max_length=10, blank=True)  # json, csv, parquet (sniffed)
    cid = models.CharField(max_length=100)
    rows = models.PositiveIntegerField(null=True, blank=True)
    inferred_schema = models.JSONField(default=list, blank=True)
    preview_data = models.JSONField(default=list, blank=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-uploaded_at"])]

    def __str__(self) -> str:
        return self.filename


class WebhookEvent(models.TextChoices):
    DATASET_GENERATED = "dataset.generated", "dataset.generated"
    MODEL_TRAINED = "model.trained", "model.trained"
    PAYMENT_COMPLETED = "payment.completed", "payment.completed"


class WebhookEndpoint(models.Model):
    """A URL a user asked to receive events at.

    The signing secret is never stored: it is HMAC(SECRET_KEY, ``secret_salt``), shown once at
    creation and recomputed to sign each delivery, so a database dump alone cannot forge events.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="marketplace_webhooks")
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    secret_salt = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["user", "is_active"])]

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (gave up)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=40, choices=WebhookEvent.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-created_at"]), models.Index(fields=["status"])]

    def __str__(self) -> str:
        return f"{self.event} -> {self.endpoint_id} ({self.status})"


class WebhookDeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.CharField(max_length=255, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="mkt_webhook_attempt_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
