"""``/datasets`` and everything under one dataset: detail, update, delete, star, purchase, download."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core import errors
from core.openapi import one_object, raises
from marketplace.errors import (
    ALREADY_PURCHASED,
    DATASET_NOT_FOUND,
    DATASET_NOT_READY,
    INSUFFICIENT_BALANCE,
    PAYMENT_INVALID,
    PAYMENT_PROVIDER_UNAVAILABLE,
    PAYMENT_REQUIRED,
    TRANSACTION_ALREADY_USED,
    UNSUPPORTED_FILE,
)
from marketplace.file_formats import human_size
from marketplace.selectors import datasets as dataset_selectors
from marketplace.serializers.inputs import (
    DatasetCreateSerializer,
    DatasetListQuerySerializer,
    DatasetUpdateSerializer,
    DownloadQuerySerializer,
    PurchaseCreateSerializer,
    StarSerializer,
)
from marketplace.serializers.outputs import (
    AnyObjectField,
    DatasetSerializer,
    GenerationJobSerializer,
    PurchaseSerializer,
    dataset_rows_representation,
)
from marketplace.services import datasets as dataset_services
from marketplace.services import downloads as download_services
from marketplace.services import purchases as purchase_services
from marketplace.views.base import (
    DATASET_CREATOR_ONLY,
    DATASETS_BUDGET,
    OPEN_TO_ANYONE,
    PAGE_FIELDS,
    JsonOnlyNegotiation,
    MarketplaceViewSet,
    page_answer,
)

DatasetListResponse = one_object(
    inline_serializer(
        "MarketplaceDatasetList",
        {
            "datasets": DatasetSerializer(many=True),
            **PAGE_FIELDS,
            "filters": inline_serializer(
                "MarketplaceDatasetFilters",
                {
                    "categories": serializers.ListField(child=serializers.CharField()),
                    "tags": serializers.ListField(child=serializers.CharField()),
                    "priceRange": inline_serializer(
                        "MarketplacePriceRange",
                        {
                            "min": serializers.FloatField(allow_null=True),
                            "max": serializers.FloatField(allow_null=True),
                        },
                    ),
                },
            ),
        },
    )
)
DatasetCreateResponse = inline_serializer(
    "MarketplaceDatasetCreated",
    {"dataset": DatasetSerializer(), "generationJob": GenerationJobSerializer(allow_null=True)},
)
DatasetDetailResponse = inline_serializer(
    "MarketplaceDatasetDetail",
    {
        "dataset": DatasetSerializer(),
        "preview": serializers.ListField(child=AnyObjectField()),
        "useCases": serializers.ListField(
            child=inline_serializer(
                "MarketplaceUseCase",
                {
                    "title": serializers.CharField(),
                    "description": serializers.CharField(),
                    "icon": serializers.CharField(),
                },
            )
        ),
        "relatedDatasets": DatasetSerializer(many=True),
        "userAccess": inline_serializer(
            "MarketplaceUserAccess",
            {
                "canView": serializers.BooleanField(),
                "canDownload": serializers.BooleanField(),
                "hasPurchased": serializers.BooleanField(),
            },
        ),
    },
)
DatasetResponse = inline_serializer("MarketplaceDatasetEnvelope", {"dataset": DatasetSerializer()})
MessageResponse = inline_serializer("MarketplaceMessage", {"message": serializers.CharField()})
StarResponse = inline_serializer(
    "MarketplaceStar", {"starred": serializers.BooleanField(), "totalStars": serializers.IntegerField()}
)
PurchaseResponse = inline_serializer(
    "MarketplacePurchaseResult",
    {"purchase": PurchaseSerializer(), "fullAccessCID": serializers.CharField(allow_null=True)},
)
DownloadResponse = inline_serializer(
    "MarketplaceDownload",
    {
        "downloadUrl": serializers.URLField(),
        "expiresAt": serializers.DateTimeField(),
        "format": serializers.CharField(),
        "size": serializers.CharField(),
    },
)


def download_answer(request, offer: download_services.DownloadOffer) -> dict:
    """A download endpoint's answer: the signed link to ``/files/<token>``, when it expires, what it serves."""
    link = request.build_absolute_uri(reverse("marketplace-file-download", kwargs={"token": offer.token}))
    return {
        "downloadUrl": link,
        "expiresAt": offer.expires_at,
        "format": offer.format,
        "size": human_size(offer.size_bytes),
    }


class DatasetViewSet(MarketplaceViewSet):
    """Datasets: every one that is not private, and a private one to its creator and its buyers (to
    anyone else it does not exist: 404). Dataset operations share one budget: 100 requests an hour
    per user (or address). Listing, reading and asking for a download link need no sign-in."""

    lookup_url_kwarg = "dataset_id"
    not_found = DATASET_NOT_FOUND
    rate_limit_scopes = DATASETS_BUDGET
    # The download's ``format`` (json|csv|parquet) is the API's, not DRF's renderer override.
    content_negotiation_class = JsonOnlyNegotiation
    body_serializers = {
        "create": DatasetCreateSerializer,
        "update": DatasetUpdateSerializer,
        "star": StarSerializer,
        "purchase": PurchaseCreateSerializer,
    }
    query_serializers = {"list": DatasetListQuerySerializer, "download": DownloadQuerySerializer}
    action_permission_classes = {
        "list": OPEN_TO_ANYONE,
        "retrieve": OPEN_TO_ANYONE,
        "download": OPEN_TO_ANYONE,
        "update": DATASET_CREATOR_ONLY,
        "destroy": DATASET_CREATOR_ONLY,
    }

    def get_queryset(self):
        return dataset_selectors.datasets_visible_to(user=self.request.user)

    def _dataset_answer(self, dataset, **extra) -> dict:
        access = dataset_selectors.dataset_access_for(self.request.user, [dataset])
        return {"dataset": DatasetSerializer(dataset, context={"access": access}).data, **extra}

    @extend_schema(
        summary="List and search datasets",
        operation_id="marketplace_datasets_list",
        parameters=[OpenApiParameter("tags", str, many=True, explode=True)],
        responses={200: DatasetListResponse},
    )
    def list(self, request):
        q = self.validated_query()
        result = dataset_selectors.dataset_list(
            user=request.user,
            params=dataset_selectors.DatasetListParams(
                search=q.get("search", ""),
                category=q.get("category", ""),
                tags=tuple(q.get("tags") or ()),
                sort_by=q["sortBy"],
                visibility=q["visibility"],
                page=q["page"],
                limit=q["limit"],
                min_rating=q.get("minRating"),
                max_price=q.get("maxPrice"),
                verified=q.get("verified"),
                creator=q.get("creator", ""),
            ),
        )
        access = dataset_selectors.dataset_access_for(request.user, result.page.items)
        datasets = dataset_rows_representation(result.page.items, access=access)
        return Response(
            {
                **page_answer(result.page, datasets=datasets),
                "filters": {
                    "categories": result.categories,
                    "tags": result.tags,
                    "priceRange": {"min": result.price_min, "max": result.price_max},
                },
            }
        )

    @extend_schema(
        summary="Create a dataset (and its generation job)",
        responses={201: DatasetCreateResponse},
    )
    def create(self, request):
        data = self.validated_body()
        created = dataset_services.dataset_create(
            creator=request.user,
            name=data["name"],
            description=data["description"],
            category=data["category"],
            tags=data["tags"],
            visibility=data["visibility"],
            license=data["license"],
            price=data["price"],
            price_per_row=data["pricePerRow"],
            currency=data["currency"],
            dataset_type=data["datasetType"],
            schema=data["schema"],
            template_id=data.get("templateId"),
            upload_id=data.get("fileId"),
            config=data.get("config"),
        )
        dataset = self.get_queryset().get(pk=created.dataset.pk)
        job = created.generation_job
        return Response(
            self._dataset_answer(dataset, generationJob=GenerationJobSerializer(job).data if job else None),
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="A dataset with its preview, use cases, related datasets and what you may do with it",
        responses={200: DatasetDetailResponse},
    )
    def retrieve(self, request, dataset_id):
        dataset = self.get_object()
        dataset_services.dataset_view_record(dataset=dataset, viewer=request.user)
        related = dataset_selectors.dataset_related(dataset=dataset)
        access = dataset_selectors.dataset_access_for(request.user, [dataset, *related])
        return Response(
            {
                "dataset": DatasetSerializer(dataset, context={"access": access}).data,
                "preview": dataset.preview_data,
                "useCases": dataset_selectors.dataset_use_cases(dataset=dataset),
                "relatedDatasets": DatasetSerializer(related, many=True, context={"access": access}).data,
                "userAccess": {
                    "canView": True,
                    "canDownload": access.can_download(dataset),
                    "hasPurchased": access.has_purchased(dataset),
                },
            }
        )

    @extend_schema(
        summary="Update a dataset's metadata (creator only)",
        responses={200: DatasetResponse},
    )
    def update(self, request, dataset_id):
        dataset = self.get_object()
        data = dict(self.validated_body())
        if "pricePerRow" in data:
            data["price_per_row"] = data.pop("pricePerRow")
        dataset_services.dataset_update(dataset=dataset, tags=data.pop("tags", None), **data)
        return Response(self._dataset_answer(self.get_object()))

    @extend_schema(
        summary="Delete a dataset (soft delete; creator only)",
        responses={200: MessageResponse},
    )
    def destroy(self, request, dataset_id):
        dataset_services.dataset_soft_delete(dataset=self.get_object())
        return Response({"message": "Dataset deleted successfully"})

    @extend_schema(
        summary="Star or unstar a dataset (idempotent)",
        responses={200: StarResponse},
    )
    @action(detail=True, methods=["post"])
    def star(self, request, dataset_id):
        dataset = self.get_object()
        starred, total = dataset_services.dataset_star(
            user=request.user, dataset=dataset, starred=self.validated_body()["starred"]
        )
        return Response({"starred": starred, "totalStars": total})

    @extend_schema(
        summary="Purchase a dataset with an Ethereum transaction or a Stripe PaymentIntent",
        description="201 when the payment is confirmed; 202 with status pending while the transaction "
        "waits for confirmations (it is re-checked in the background).",
        responses={201: PurchaseResponse, 202: PurchaseResponse},
    )
    @action(detail=True, methods=["post"])
    @raises(
        PAYMENT_REQUIRED,
        PAYMENT_INVALID,
        INSUFFICIENT_BALANCE,
        errors.CONFLICT,
        TRANSACTION_ALREADY_USED,
        ALREADY_PURCHASED,
        PAYMENT_PROVIDER_UNAVAILABLE,
    )
    def purchase(self, request, dataset_id):
        dataset = self.get_object()
        data = self.validated_body()
        outcome = purchase_services.purchase_create(
            buyer=request.user,
            dataset=dataset,
            transaction_hash=data["transactionHash"],
            payment_method=data["paymentMethod"],
        )
        completed = outcome.full_access_cid is not None
        return Response(
            {"purchase": PurchaseSerializer(outcome.purchase).data, "fullAccessCID": outcome.full_access_cid},
            status=status.HTTP_201_CREATED if completed else status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary="A signed, expiring download link for the dataset's file",
        responses={200: DownloadResponse},
    )
    @action(detail=True, methods=["get"])
    @raises(PAYMENT_REQUIRED, DATASET_NOT_READY, UNSUPPORTED_FILE)
    def download(self, request, dataset_id):
        dataset = self.get_object()
        offer = download_services.dataset_download_grant(
            user=request.user, dataset=dataset, file_format=self.validated_query().get("format")
        )
        return Response(download_answer(request, offer))
