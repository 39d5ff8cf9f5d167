"""Input validation of the marketplace's requests (shape and ranges; rules live in the services)."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from core import pagination
from core.fields import AsciiIntegerField
from marketplace import conf
from marketplace.engine import conf as engine_conf
from marketplace.models import Currency, Dataset, FileFormat, Purchase, Quality, TrainedModel, Upload, WebhookEvent
from marketplace.serializers.outputs import SchemaFieldSerializer

PRICE_FIELD = {"max_digits": 36, "decimal_places": 18, "min_value": Decimal(0)}
# SQLite stores a DecimalField as REAL: a double keeps 15 significant digits (Django reads it back
# with that precision), so a longer price would be stored changed and charged rounded.
SQLITE_PRICE_DIGITS = 15


def _price_stored_exactly(value: Decimal) -> None:
    if connection.vendor == "sqlite" and len(value.normalize().as_tuple().digits) > SQLITE_PRICE_DIGITS:
        raise serializers.ValidationError(
            f"This server's database (SQLite) keeps a price to {SQLITE_PRICE_DIGITS} significant digits"
        )


class PriceField(serializers.DecimalField):
    """A dataset's price: 0 or more, up to 18 decimals, stored exactly or refused."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**PRICE_FIELD, validators=[_price_stored_exactly], **kwargs)


class CommaListField(serializers.ListField):
    """A list given as repeated query parameters (``tags=a&tags=b``) or comma-separated (``tags=a,b``)."""

    child = serializers.CharField(max_length=50)

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name) or dictionary.getlist(f"{self.field_name}[]")
            if values:
                return [item for value in values for item in value.split(",") if item.strip()]
        return serializers.empty


@extend_schema_serializer(component_name="MarketplaceLogin")
class LoginSerializer(serializers.Serializer):
    walletAddress = serializers.CharField(max_length=42)
    signature = serializers.CharField(max_length=200)
    message = serializers.CharField(max_length=4000, trim_whitespace=False)


@extend_schema_serializer(component_name="MarketplaceRefresh")
class RefreshSerializer(serializers.Serializer):
    refreshToken = serializers.CharField(max_length=2000)


@extend_schema_serializer(component_name="MarketplacePageQuery")
class PageQuerySerializer(pagination.PageQuerySerializer):
    """``page`` and ``limit`` by the platform's one rule (core.pagination): out of range is a 400."""


@extend_schema_serializer(component_name="MarketplaceDatasetListQuery")
class DatasetListQuerySerializer(PageQuerySerializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    category = serializers.CharField(required=False, allow_blank=True, max_length=64)
    tags = CommaListField(required=False)
    sortBy = serializers.ChoiceField(choices=["trending", "recent", "downloads", "rating"], default="trending")
    visibility = serializers.ChoiceField(choices=["public", "private", "all"], default="public")
    minRating = serializers.DecimalField(max_digits=3, decimal_places=2, min_value=0, max_value=5, required=False)
    maxPrice = serializers.DecimalField(**PRICE_FIELD, required=False)
    verified = serializers.BooleanField(required=False, allow_null=True, default=None)
    creator = serializers.CharField(
        required=False,
        max_length=64,
        help_text="Only this creator's datasets: a wallet address (any case) or a user id, as creatorId shows",
    )


MAX_VARIATIONS = 10


@extend_schema_serializer(component_name="MarketplaceAugmentation")
class AugmentationSerializer(serializers.Serializer):
    """Enabled: ``variations`` 1-10 and ``noise`` 0-1. Disabled, the numbers are not used: any
    numbers from 0 are accepted (a form sends its zeros, or its sliders' values) and dropped."""

    enabled = serializers.BooleanField(default=False)
    variations = AsciiIntegerField(
        min_value=0, required=False, help_text=f"1 to {MAX_VARIATIONS} when enabled (default 1)"
    )
    noise = serializers.FloatField(min_value=0, required=False, help_text="0 to 1 when enabled (default 0.05)")

    def validate(self, attrs):
        if not attrs["enabled"]:
            return {"enabled": False}
        problems = {}
        if not 1 <= attrs.get("variations", 1) <= MAX_VARIATIONS:
            problems["variations"] = [f"Ensure this value is between 1 and {MAX_VARIATIONS} when enabled."]
        if attrs.get("noise", 0) > 1:
            problems["noise"] = ["Ensure this value is between 0 and 1 when enabled."]
        if problems:
            raise serializers.ValidationError(problems)
        return attrs


@extend_schema_serializer(component_name="MarketplaceGenerationConfig")
class GenerationConfigSerializer(serializers.Serializer):
    rows = AsciiIntegerField(min_value=1, max_value=conf.MAX_DATASET_ROWS)
    format = serializers.ChoiceField(choices=FileFormat.choices, default=FileFormat.JSON)
    quality = serializers.ChoiceField(choices=Quality.choices, default=Quality.BALANCED)
    verification = serializers.BooleanField(default=False)
    augmentation = AugmentationSerializer(required=False)
    model = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")


@extend_schema_field(SchemaFieldSerializer(many=True))
class SchemaJSONField(serializers.JSONField):
    """A list of schema fields; the service validates it against the documented types and constraints."""


@extend_schema_serializer(component_name="MarketplaceDatasetCreate")
class DatasetCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    category = serializers.CharField(max_length=64)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)
    schema = SchemaJSONField(required=False, allow_null=True, default=None)
    visibility = serializers.ChoiceField(choices=Dataset.Visibility.choices, default=Dataset.Visibility.PUBLIC)
    license = serializers.CharField(required=False, allow_blank=True, max_length=100, default="")
    price = PriceField(default=Decimal(0))
    pricePerRow = PriceField(default=Decimal(0))
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.ETH)
    datasetType = serializers.ChoiceField(choices=Dataset.DatasetType.choices, default=Dataset.DatasetType.CUSTOM)
    templateId = serializers.CharField(required=False, allow_blank=True, max_length=64)
    fileId = serializers.UUIDField(required=False, help_text="The upload to publish, for datasetType upload")
    config = GenerationConfigSerializer(required=False)

    def validate(self, attrs):
        dataset_type = attrs["datasetType"]
        if dataset_type != Dataset.DatasetType.UPLOAD and "config" not in attrs:
            raise serializers.ValidationError({"config": ["required unless datasetType is upload"]})
        if dataset_type == Dataset.DatasetType.UPLOAD and not attrs.get("fileId"):
            raise serializers.ValidationError({"fileId": ["required when datasetType is upload"]})
        if dataset_type == Dataset.DatasetType.TEMPLATE and not attrs.get("templateId"):
            raise serializers.ValidationError({"templateId": ["required when datasetType is template"]})
        return attrs


@extend_schema_serializer(component_name="MarketplaceDatasetUpdate")
class DatasetUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    category = serializers.CharField(max_length=64, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    visibility = serializers.ChoiceField(choices=Dataset.Visibility.choices, required=False)
    price = PriceField(required=False)
    pricePerRow = PriceField(required=False)
    license = serializers.CharField(required=False, allow_blank=True, max_length=100)


@extend_schema_serializer(component_name="MarketplaceStar")
class StarSerializer(serializers.Serializer):
    starred = serializers.BooleanField()


@extend_schema_serializer(component_name="MarketplaceDownloadQuery")
class DownloadQuerySerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FileFormat.choices, required=False)


@extend_schema_serializer(component_name="MarketplacePurchaseCreate")
class PurchaseCreateSerializer(serializers.Serializer):
    transactionHash = serializers.CharField(max_length=255)
    paymentMethod = serializers.ChoiceField(choices=Purchase.PaymentMethod.choices)


@extend_schema_serializer(component_name="MarketplaceModelListQuery")
class ModelListQuerySerializer(PageQuerySerializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=200)
    provider = serializers.CharField(required=False, allow_blank=True, max_length=64)
    tags = CommaListField(required=False)
    sortBy = serializers.ChoiceField(choices=["popular", "recent", "accuracy", "downloads"], default="popular")
    minAccuracy = serializers.FloatField(required=False, min_value=0)
    status = serializers.ChoiceField(choices=TrainedModel.Status.choices, required=False)


@extend_schema_serializer(component_name="MarketplaceTrainingConfigInput")
class TrainingConfigInputSerializer(serializers.Serializer):
    """The knobs' shapes and caps; the estimator's own checks (hiddenLayers, nEstimators, maxDepth,
    mini-batch steps) run in ``model_create`` before anything is created."""

    epochs = AsciiIntegerField(min_value=1, max_value=engine_conf.TRAINING_MAX_EPOCHS, default=3)
    batchSize = AsciiIntegerField(min_value=1, max_value=engine_conf.TRAINING_MAX_BATCH_SIZE, default=32)
    learningRate = serializers.FloatField(min_value=0, max_value=1, default=0.0001)
    hyperparameters = serializers.DictField(required=False, default=dict)


@extend_schema_serializer(component_name="MarketplaceModelCreate")
class ModelCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")
    datasetId = serializers.UUIDField()
    baseModel = serializers.CharField(
        max_length=200,
        help_text="The estimator to train: logistic-regression, sgd-classifier, mlp-classifier, random-forest, "
        "gradient-boosting, decision-tree or naive-bayes, optionally behind a provider prefix (sklearn/random-forest)",
    )
    provider = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    trainingConfig = TrainingConfigInputSerializer(required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), required=False, default=list)

    def validate(self, attrs):
        if "trainingConfig" not in attrs:  # every default of the training configuration
            defaults = TrainingConfigInputSerializer(data={})
            defaults.is_valid(raise_exception=True)
            attrs["trainingConfig"] = defaults.validated_data
        return attrs


@extend_schema_serializer(component_name="MarketplaceProfileUpdate")
class ProfileUpdateSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150, required=False)
    email = serializers.EmailField(required=False, allow_blank=True)
    avatar = serializers.URLField(required=False, allow_blank=True, max_length=500)


@extend_schema_serializer(component_name="MarketplaceUserDatasetsQuery")
class UserDatasetsQuerySerializer(PageQuerySerializer):
    status = serializers.ChoiceField(choices=Dataset.Status.choices, required=False)


@extend_schema_serializer(component_name="MarketplaceUpload")
class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    type = serializers.ChoiceField(choices=Upload.Type.choices)


@extend_schema_serializer(component_name="MarketplaceWebhookCreate")
class WebhookCreateSerializer(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), min_length=1, max_length=len(WebhookEvent.values)
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate_url(self, value: str) -> str:
        if not settings.DEBUG and not value.startswith("https://"):
            raise serializers.ValidationError("must be an https:// URL")
        try:
            port = urlsplit(value).port  # Django's URL check lets any 5 digits through as a port
        except ValueError:
            port = 0
        if port == 0:
            raise serializers.ValidationError("the port must be between 1 and 65535")
        return value
