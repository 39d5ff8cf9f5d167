"""Output shapes of the spec's data models (User, Dataset, Model, GenerationJob, Purchase).

List views hand the serializer a context built once for the whole page (``DatasetAccess``), so a
page of datasets costs the same few queries whatever its length. REST answers, WebSocket events
and webhook payloads all use these serializers.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core.pagination import PageMetaSerializer
from core.serializers import PlannedRepresentation
from marketplace.file_formats import human_size
from marketplace.models import Dataset, GenerationJob, Purchase, TrainedModel


def wallet_address_of(user) -> str | None:
    try:
        return user.wallet_profile.wallet_address
    except AttributeError:  # RelatedObjectDoesNotExist is an AttributeError too
        return None


class Money(serializers.DecimalField):
    """A price as a JSON number (the spec's ``number``), kept exact up to the render."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=36, decimal_places=18, coerce_to_string=False, **kwargs)

    def to_representation(self, value):
        return value.normalize() if value is not None else None


@extend_schema_serializer(component_name="MarketplaceUserSummary")
class UserSummarySerializer(PlannedRepresentation, serializers.Serializer):
    id = serializers.UUIDField()
    username = serializers.CharField()
    walletAddress = serializers.SerializerMethodField()

    def get_walletAddress(self, user) -> str | None:
        return wallet_address_of(user)


@extend_schema_serializer(component_name="MarketplaceSchemaConstraints")
class SchemaConstraintsSerializer(PlannedRepresentation, serializers.Serializer):
    required = serializers.BooleanField(required=False)
    unique = serializers.BooleanField(required=False)
    min = serializers.FloatField(required=False)
    max = serializers.FloatField(required=False)
    pattern = serializers.CharField(required=False)
    enum = serializers.ListField(child=serializers.CharField(), required=False)


@extend_schema_serializer(component_name="MarketplaceSchemaField")
class SchemaFieldSerializer(PlannedRepresentation, serializers.Serializer):
    id = serializers.CharField(required=False)
    name = serializers.CharField()
    type = serializers.CharField()
    description = serializers.CharField(required=False, allow_blank=True)
    constraints = SchemaConstraintsSerializer(required=False)


@extend_schema_serializer(component_name="MarketplaceGenerationLineage")
class GenerationLineageSerializer(PlannedRepresentation, serializers.Serializer):
    model = serializers.CharField(required=False)
    technique = serializers.CharField(required=False)
    seedData = serializers.CharField(required=False)
    augmentationSteps = serializers.ListField(child=serializers.CharField(), required=False)
    quality = serializers.CharField(required=False)
    verification = serializers.BooleanField(required=False)


@extend_schema_serializer(component_name="MarketplaceDataset")
class DatasetSerializer(PlannedRepresentation, serializers.ModelSerializer):
    """The spec's Dataset. ``fullFilecoinCID`` is shown only to those allowed to download it.

    Context: ``access`` (a DatasetAccess) decides who may see the full CID.
    """

    tags = serializers.SerializerMethodField()
    creator = UserSummarySerializer()
    creatorId = serializers.SerializerMethodField(
        help_text="The creator's wallet address (their user id when they have none); what ?creator= takes"
    )
    size = serializers.SerializerMethodField()
    schema = SchemaFieldSerializer(many=True)
    isVerified = serializers.BooleanField(source="is_verified")
    isLocked = serializers.BooleanField(source="is_locked")
    price = Money()
    pricePerRow = Money(source="price_per_row")
    rating = serializers.FloatField()
    previewRows = serializers.IntegerField(source="preview_rows")
    previewFilecoinCID = serializers.CharField(source="preview_cid")
    fullFilecoinCID = serializers.SerializerMethodField()
    transactionHash = serializers.CharField(source="transaction_hash")
    blockNumber = serializers.IntegerField(source="block_number", allow_null=True)
    generationLineage = GenerationLineageSerializer(source="generation_lineage")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    lastModified = serializers.DateTimeField(source="last_modified")

    class Meta:
        model = Dataset
        fields = [
            "id", "name", "description", "category", "tags", "creator", "creatorId", "size", "rows", "tokens", "format",
            "schema", "isVerified", "isLocked", "price", "pricePerRow", "currency", "license", "visibility",
            "downloads", "views", "purchases", "stars", "rating", "previewRows", "previewFilecoinCID",
            "fullFilecoinCID", "transactionHash", "blockNumber", "generationLineage", "createdAt", "updatedAt",
            "lastModified", "status",
        ]  # fmt: skip

    def get_tags(self, dataset) -> list[str]:
        return dataset.tag_names

    def get_creatorId(self, dataset) -> str:
        return wallet_address_of(dataset.creator) or str(dataset.creator_id)

    def get_size(self, dataset) -> str:
        return human_size(dataset.size_bytes)

    def get_fullFilecoinCID(self, dataset) -> str | None:
        access = self.context.get("access")
        if access is not None and access.can_download(dataset):
            return dataset.full_cid
        return None


@cache
def _dataset_field_converters() -> dict:
    """DatasetSerializer's own converters of the fields whose output is more than the value itself
    (prices, the nested schema and lineage), built once per process."""
    fields = DatasetSerializer().fields
    return {name: _none_or(fields[name].to_representation) for name in _CONVERTED_FIELDS}


def _none_or(convert):
    """``convert``, except that None stays None (as a serializer's field of a None value)."""

    def converted(value):
        return None if value is None else convert(value)

    return converted


_CONVERTED_FIELDS = ("schema", "price", "pricePerRow", "generationLineage")


def dataset_rows_representation(rows: Iterable, *, access) -> list[dict]:
    """DatasetSerializer's answer for a listing's DatasetRows (selectors.datasets), key for key and
    value for value, built from the rows' columns without a serializer per row: the listing's
    share of CPU. ``access`` (a DatasetAccess of the rows) decides who sees the full CID, as there.
    ``tests/marketplace/test_dataset_rows.py`` holds it to DatasetSerializer's output."""
    convert = _dataset_field_converters()
    schema, price, lineage = convert["schema"], convert["price"], convert["generationLineage"]
    price_per_row = convert["pricePerRow"]
    # The dates as DatasetSerializer's DateTimeFields write them, in the timezone they would each
    # look up per value (the current one), looked up once for the page.
    page_timezone = timezone.get_current_timezone() if settings.USE_TZ else None
    created_at = updated_at = last_modified = _none_or(
        serializers.DateTimeField(default_timezone=page_timezone).to_representation
    )

    def text(value) -> str | None:
        return None if value is None else str(value)

    def number(value) -> int | None:
        return None if value is None else int(value)

    answer = []
    for row in rows:
        creator_id = str(row.creator_id)
        answer.append(
            {
                "id": str(row.id),
                "name": text(row.name),
                "description": text(row.description),
                "category": text(row.category),
                "tags": row.tag_names,
                "creator": {
                    "id": creator_id,
                    "username": text(row.creator_username),
                    "walletAddress": row.creator_wallet_address,
                },
                "creatorId": row.creator_wallet_address or creator_id,
                "size": human_size(row.size_bytes),
                "rows": number(row.rows),
                "tokens": number(row.tokens),
                "format": text(row.format),
                "schema": schema(row.schema),
                "isVerified": bool(row.is_verified),
                "isLocked": row.is_locked,
                "price": price(row.price),
                "pricePerRow": price_per_row(row.price_per_row),
                "currency": text(row.currency),
                "license": text(row.license),
                "visibility": text(row.visibility),
                "downloads": number(row.downloads),
                "views": number(row.views),
                "purchases": number(row.purchases),
                "stars": number(row.stars),
                "rating": float(row.rating),
                "previewRows": number(row.preview_rows),
                "previewFilecoinCID": text(row.preview_cid),
                "fullFilecoinCID": row.full_cid if access.can_download(row) else None,
                "transactionHash": text(row.transaction_hash),
                "blockNumber": number(row.block_number),
                "generationLineage": lineage(row.generation_lineage),
                "createdAt": created_at(row.created_at),
                "updatedAt": updated_at(row.updated_at),
                "lastModified": last_modified(row.last_modified),
                "status": text(row.status),
            }
        )
    return answer


@extend_schema_serializer(component_name="MarketplaceGenerationVerification")
class GenerationVerificationSerializer(serializers.Serializer):
    """The engine's check of the written file, re-read (a job with violations fails instead)."""

    checkedRows = serializers.IntegerField(help_text="Rows read back from the written file")
    violations = serializers.IntegerField(help_text="Constraint violations found (0 for a completed job)")
    full = serializers.BooleanField(
        help_text="true: every value of every row checked against its field (verification or quality high); "
        "false: the file re-read for its columns and row count only"
    )
    violationsByField = serializers.DictField(child=serializers.IntegerField())
    problems = serializers.ListField(child=serializers.CharField())


@extend_schema_serializer(component_name="MarketplaceGenerationResult")
class GenerationResultSerializer(serializers.Serializer):
    generatedRows = serializers.IntegerField()
    filecoinCID = serializers.CharField()
    previewCID = serializers.CharField()
    generationTime = serializers.FloatField()
    cost = serializers.FloatField()
    verification = GenerationVerificationSerializer(allow_null=True, help_text="null when the job recorded none")


@extend_schema_serializer(component_name="MarketplaceGenerationJob")
class GenerationJobSerializer(serializers.ModelSerializer):
    datasetId = serializers.UUIDField(source="dataset_id")
    userId = serializers.UUIDField(source="user_id")
    result = GenerationResultSerializer(allow_null=True)
    error = serializers.SerializerMethodField()
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")
    completedAt = serializers.DateTimeField(source="completed_at", allow_null=True)

    class Meta:
        model = GenerationJob
        fields = [
            "id", "datasetId", "userId", "status", "progress", "config", "result", "error", "createdAt",
            "updatedAt", "completedAt",
        ]  # fmt: skip

    def get_error(self, job) -> str | None:
        return job.error or None


@extend_schema_serializer(component_name="MarketplaceModelMetrics")
class ModelMetricsSerializer(serializers.Serializer):
    f1Score = serializers.FloatField(required=False)
    precision = serializers.FloatField(required=False)
    recall = serializers.FloatField(required=False)
    additionalMetrics = serializers.DictField(required=False)


@extend_schema_serializer(component_name="MarketplaceTrainingConfig")
class TrainingConfigSerializer(serializers.Serializer):
    epochs = serializers.IntegerField()
    batchSize = serializers.IntegerField()
    learningRate = serializers.FloatField()
    hyperparameters = serializers.DictField(required=False)


@extend_schema_serializer(component_name="MarketplaceModel")
class ModelSerializer(serializers.ModelSerializer):
    """The spec's Model."""

    baseModel = serializers.CharField(source="base_model")
    datasetUsed = serializers.SerializerMethodField()
    datasetRows = serializers.SerializerMethodField()
    trainedBy = UserSummarySerializer(source="trained_by")
    trainedDate = serializers.DateTimeField(source="trained_date", allow_null=True)
    tags = serializers.SerializerMethodField()
    filecoinCID = serializers.CharField(source="filecoin_cid")
    metrics = ModelMetricsSerializer()
    trainingConfig = TrainingConfigSerializer(source="training_config")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    class Meta:
        model = TrainedModel
        fields = [
            "id", "name", "description", "provider", "baseModel", "datasetUsed", "datasetRows", "trainedBy",
            "trainedDate", "accuracy", "downloads", "stars", "tags", "filecoinCID", "status", "metrics",
            "trainingConfig", "createdAt", "updatedAt",
        ]  # fmt: skip

    def get_tags(self, model) -> list[str]:
        return sorted(tag.name for tag in model.tag_rows.all())

    def _training_dataset_shown(self, model) -> bool:
        """A model is a public listing, but the dataset it was trained on may be private: its id and
        size are shown only to whom may see it (``context["training_datasets_shown"]``, the ids
        ``selectors.trained_models.training_datasets_visible_to`` found for the page's reader)."""
        return model.dataset_id is not None and model.dataset_id in self.context.get("training_datasets_shown", ())

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_datasetUsed(self, model):
        return model.dataset_id if self._training_dataset_shown(model) else None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_datasetRows(self, model):
        return model.dataset_rows if self._training_dataset_shown(model) else None


@extend_schema_serializer(component_name="MarketplacePurchase")
class PurchaseSerializer(serializers.ModelSerializer):
    datasetId = serializers.UUIDField(source="dataset_id")
    userId = serializers.UUIDField(source="buyer_id")
    amount = Money()
    transactionHash = serializers.CharField(source="transaction_hash")
    createdAt = serializers.DateTimeField(source="created_at")

    class Meta:
        model = Purchase
        fields = ["id", "datasetId", "userId", "amount", "currency", "transactionHash", "status", "createdAt"]


@extend_schema_serializer(component_name="MarketplaceUser")
class UserSerializer(serializers.Serializer):
    """The spec's User; ``reputation``, ``totalDatasets`` and ``totalModels`` come from ``stats``."""

    id = serializers.UUIDField()
    walletAddress = serializers.SerializerMethodField()
    username = serializers.CharField()
    email = serializers.EmailField(allow_null=True)
    emailVerified = serializers.BooleanField(source="email_verified")
    avatar = serializers.CharField(source="avatar_url")
    createdAt = serializers.DateTimeField(source="date_joined")
    updatedAt = serializers.DateTimeField(source="updated_at")
    reputation = serializers.SerializerMethodField()
    totalDatasets = serializers.SerializerMethodField()
    totalModels = serializers.SerializerMethodField()

    def get_walletAddress(self, user) -> str | None:
        return wallet_address_of(user)

    def _stats(self):
        return self.context["stats"]

    def get_reputation(self, user) -> int:
        return self._stats().reputation

    def get_totalDatasets(self, user) -> int:
        return self._stats().total_datasets

    def get_totalModels(self, user) -> int:
        return self._stats().total_models


@extend_schema_field({"type": "object", "additionalProperties": True})
class AnyObjectField(serializers.JSONField):
    pass


@extend_schema_serializer(component_name="MarketplaceUserPurchase")
class UserPurchaseSerializer(serializers.ModelSerializer):
    """One of the signed-in user's purchases, whatever its status (the row is theirs).

    Context: ``access`` (a DatasetAccess of the page's datasets). ``dataset`` is null when they may
    not see it now: a private dataset they hold no completed purchase of (a pending or failed one
    gives nothing).
    """

    dataset = serializers.SerializerMethodField()
    amount = Money()
    purchasedAt = serializers.DateTimeField(source="created_at")
    transactionHash = serializers.CharField(source="transaction_hash")

    class Meta:
        model = Purchase
        fields = ["id", "dataset", "amount", "currency", "purchasedAt", "transactionHash", "status"]

    @extend_schema_field(DatasetSerializer(allow_null=True))
    def get_dataset(self, purchase) -> dict | None:
        if not self.context["access"].can_view(purchase.dataset):
            return None
        return DatasetSerializer(purchase.dataset, context=self.context).data


@extend_schema_serializer(component_name="MarketplacePagination")
class PaginationSerializer(PageMetaSerializer):
    """The spec's ``pagination`` object (core.pagination's page meta)."""


@extend_schema_serializer(component_name="MarketplaceWebhookEndpoint")
class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.URLField()
    events = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    isActive = serializers.BooleanField(source="is_active")
    createdAt = serializers.DateTimeField(source="created_at")


@extend_schema_serializer(component_name="MarketplaceWebhookAttempt")
class WebhookAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    responseStatus = serializers.IntegerField(source="response_status", allow_null=True)
    error = serializers.CharField()
    durationMs = serializers.IntegerField(source="duration_ms")
    createdAt = serializers.DateTimeField(source="created_at")


@extend_schema_serializer(component_name="MarketplaceWebhookDelivery")
class WebhookDeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event = serializers.CharField()
    status = serializers.CharField()
    attempts = WebhookAttemptSerializer(source="attempt_rows", many=True)
    nextAttemptAt = serializers.DateTimeField(source="next_attempt_at", allow_null=True)
    createdAt = serializers.DateTimeField(source="created_at")
    deliveredAt = serializers.DateTimeField(source="delivered_at", allow_null=True)
