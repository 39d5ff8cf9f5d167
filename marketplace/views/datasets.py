"""``/datasets`` and everything under one dataset: detail, update, delete, star, purchase, download."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

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
)
from marketplace.services import datasets as dataset_services
from marketplace.services import downloads as download_services
from marketplace.services import purchases as purchase_services
from marketplace.services.file_formats import human_size
from marketplace.views.base import PAGE_FIELDS, DatasetOperationView, JsonOnlyNegotiation, errors_for, page_answer

DatasetListResponse = inline_serializer(
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
                    {"min": serializers.FloatField(allow_null=True), "max": serializers.FloatField(allow_null=True)},
                ),
            },
        ),
    },
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


def download_url(request, token: str) -> str:
    return request.build_absolute_uri(reverse("marketplace-file-download", kwargs={"token": token}))


class DatasetListView(DatasetOperationView):
    anonymous_methods = ("GET",)

    @extend_schema(
        summary="List and search datasets",
        operation_id="marketplace_datasets_list",
        parameters=[DatasetListQuerySerializer, OpenApiParameter("tags", str, many=True, explode=True)],
        responses={200: DatasetListResponse, **errors_for(400, 401, 429)},
    )
    def get(self, request):
        query = DatasetListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
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
        datasets = DatasetSerializer(result.page.items, many=True, context={"access": access}).data
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
        request=DatasetCreateSerializer,
        responses={201: DatasetCreateResponse, **errors_for(400, 401, 429)},
    )
    def post(self, request):
        body = DatasetCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
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
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=created.dataset.pk)
        access = dataset_selectors.dataset_access_for(request.user, [dataset])
        job = created.generation_job
        return Response(
            {
                "dataset": DatasetSerializer(dataset, context={"access": access}).data,
                "generationJob": GenerationJobSerializer(job).data if job else None,
            },
            status=status.HTTP_201_CREATED,
        )


class DatasetDetailView(DatasetOperationView):
    anonymous_methods = ("GET",)

    @extend_schema(
        summary="A dataset with its preview, use cases, related datasets and what you may do with it",
        responses={200: DatasetDetailResponse, **errors_for(401, 404, 429)},
    )
    def get(self, request, dataset_id):
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=dataset_id)
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
        request=DatasetUpdateSerializer,
        responses={200: DatasetResponse, **errors_for(400, 401, 403, 404, 429)},
    )
    def put(self, request, dataset_id):
        dataset = dataset_selectors.dataset_get_for_creator(user=request.user, dataset_id=dataset_id)
        body = DatasetUpdateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        if "pricePerRow" in data:
            data["price_per_row"] = data.pop("pricePerRow")
        dataset_services.dataset_update(dataset=dataset, tags=data.pop("tags", None), **data)
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=dataset_id)
        access = dataset_selectors.dataset_access_for(request.user, [dataset])
        return Response({"dataset": DatasetSerializer(dataset, context={"access": access}).data})

    @extend_schema(
        summary="Delete a dataset (soft delete; creator only)",
        responses={200: MessageResponse, **errors_for(401, 403, 404, 429)},
    )
    def delete(self, request, dataset_id):
        dataset = dataset_selectors.dataset_get_for_creator(user=request.user, dataset_id=dataset_id)
        dataset_services.dataset_soft_delete(dataset=dataset)
        return Response({"message": "Dataset deleted successfully"})


class DatasetStarView(DatasetOperationView):
    @extend_schema(
        summary="Star or unstar a dataset (idempotent)",
        request=StarSerializer,
        responses={200: StarResponse, **errors_for(400, 401, 404, 429)},
    )
    def post(self, request, dataset_id):
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=dataset_id)
        body = StarSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        starred, total = dataset_services.dataset_star(
            user=request.user, dataset=dataset, starred=body.validated_data["starred"]
        )
        return Response({"starred": starred, "totalStars": total})


class DatasetPurchaseView(DatasetOperationView):
    @extend_schema(
        summary="Purchase a dataset with an Ethereum transaction or a Stripe PaymentIntent",
        description="201 when the payment is confirmed; 202 with status pending while the transaction "
        "waits for confirmations (it is re-checked in the background).",
        request=PurchaseCreateSerializer,
        responses={201: PurchaseResponse, 202: PurchaseResponse, **errors_for(400, 401, 402, 404, 409, 429, 502)},
    )
    def post(self, request, dataset_id):
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=dataset_id)
        body = PurchaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        outcome = purchase_services.purchase_create(
            buyer=request.user,
            dataset=dataset,
            transaction_hash=body.validated_data["transactionHash"],
            payment_method=body.validated_data["paymentMethod"],
        )
        completed = outcome.full_access_cid is not None
        return Response(
            {"purchase": PurchaseSerializer(outcome.purchase).data, "fullAccessCID": outcome.full_access_cid},
            status=status.HTTP_201_CREATED if completed else status.HTTP_202_ACCEPTED,
        )


class DatasetDownloadView(DatasetOperationView):
    anonymous_methods = ("GET",)
    content_negotiation_class = JsonOnlyNegotiation

    @extend_schema(
        summary="A signed, expiring download link for the dataset's file",
        parameters=[DownloadQuerySerializer],
        responses={200: DownloadResponse, **errors_for(400, 401, 402, 404, 409, 429)},
    )
    def get(self, request, dataset_id):
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=dataset_id)
        query = DownloadQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        offer = download_services.dataset_download_grant(
            user=request.user, dataset=dataset, file_format=query.validated_data.get("format")
        )
        return Response(
            {
                "downloadUrl": download_url(request, offer.token),
                "expiresAt": offer.expires_at,
                "format": offer.format,
                "size": human_size(offer.size_bytes),
            }
        )
