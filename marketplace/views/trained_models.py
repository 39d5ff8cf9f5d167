"""``/models``: list, detail with download history, training requests, and download links."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from marketplace.selectors import datasets as dataset_selectors
from marketplace.selectors import trained_models as model_selectors
from marketplace.serializers.inputs import ModelCreateSerializer, ModelListQuerySerializer
from marketplace.serializers.outputs import DatasetSerializer, ModelSerializer
from marketplace.services import downloads as download_services
from marketplace.services import trained_models as model_services
from marketplace.services.file_formats import human_size
from marketplace.views.base import PAGE_FIELDS, DatasetOperationView, MarketplaceView, errors_for, page_answer
from marketplace.views.datasets import DownloadResponse, download_url

ModelListResponse = inline_serializer("MarketplaceModelList", {"models": ModelSerializer(many=True), **PAGE_FIELDS})
ModelDetailResponse = inline_serializer(
    "MarketplaceModelDetail",
    {
        "model": ModelSerializer(),
        "trainingDataset": DatasetSerializer(allow_null=True),
        "relatedModels": ModelSerializer(many=True),
        "downloadStats": inline_serializer(
            "MarketplaceModelDownloadStats",
            {
                "totalDownloads": serializers.IntegerField(),
                "recentDownloads": serializers.IntegerField(),
                "downloadHistory": serializers.ListField(
                    child=inline_serializer(
                        "MarketplaceModelDownloadDay",
                        {"date": serializers.DateField(), "downloads": serializers.IntegerField()},
                    )
                ),
            },
        ),
    },
)
ModelCreateResponse = inline_serializer(
    "MarketplaceModelCreated",
    {
        "model": ModelSerializer(),
        "trainingJob": inline_serializer(
            "MarketplaceTrainingJob",
            {
                "id": serializers.UUIDField(),
                "status": serializers.CharField(),
                "estimatedTime": serializers.IntegerField(),
            },
        ),
    },
)


def model_list_response(request, query: dict, **extra) -> Response:
    page = model_selectors.model_list(
        params=model_selectors.ModelListParams(
            search=query.get("search", ""),
            provider=query.get("provider", ""),
            tags=tuple(query.get("tags") or ()),
            sort_by=query.get("sortBy", "recent"),
            page=query["page"],
            limit=query["limit"],
            min_accuracy=query.get("minAccuracy"),
            status=query.get("status", ""),
            **extra,
        )
    )
    return Response(page_answer(page, models=ModelSerializer(page.items, many=True).data))


class ModelListView(MarketplaceView):
    anonymous_methods = ("GET",)

    @extend_schema(
        summary="List and search models",
        operation_id="marketplace_models_list",
        parameters=[ModelListQuerySerializer, OpenApiParameter("tags", str, many=True, explode=True)],
        responses={200: ModelListResponse, **errors_for(400, 401)},
    )
    def get(self, request):
        query = ModelListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return model_list_response(request, query.validated_data)

    @extend_schema(
        summary="Train a model on a dataset (creates the model and its queued training job)",
        request=ModelCreateSerializer,
        responses={201: ModelCreateResponse, **errors_for(400, 401, 402, 404, 409)},
    )
    def post(self, request):
        body = ModelCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        dataset = dataset_selectors.dataset_get_visible(user=request.user, dataset_id=data["datasetId"])
        created = model_services.model_create(
            user=request.user,
            name=data["name"],
            description=data["description"],
            dataset=dataset,
            base_model=data["baseModel"],
            training_config=dict(data["trainingConfig"]),
            tags=data["tags"],
            provider=data["provider"],
        )
        model = model_selectors.model_get(model_id=created.model.pk)
        job = created.training_job
        return Response(
            {
                "model": ModelSerializer(model).data,
                "trainingJob": {"id": job.pk, "status": job.status, "estimatedTime": job.estimated_time},
            },
            status=status.HTTP_201_CREATED,
        )


class ModelDetailView(MarketplaceView):
    anonymous_methods = ("GET",)

    @extend_schema(
        summary="A model with its training dataset, related models and download history",
        responses={200: ModelDetailResponse, **errors_for(401, 404)},
    )
    def get(self, request, model_id):
        model = model_selectors.model_get(model_id=model_id)
        training_dataset = None
        if model.dataset_id:
            datasets = list(dataset_selectors.datasets_for_output().filter(pk=model.dataset_id))
            access = dataset_selectors.dataset_access_for(request.user, datasets)
            if datasets and access.can_view(datasets[0]):
                training_dataset = DatasetSerializer(datasets[0], context={"access": access}).data
        return Response(
            {
                "model": ModelSerializer(model).data,
                "trainingDataset": training_dataset,
                "relatedModels": ModelSerializer(model_selectors.model_related(model=model), many=True).data,
                "downloadStats": model_selectors.model_download_stats(model=model),
            }
        )


class ModelDownloadView(DatasetOperationView):
    @extend_schema(
        summary="A signed, expiring download link for a ready model's weights",
        responses={200: DownloadResponse, **errors_for(401, 404, 409, 429)},
    )
    def get(self, request, model_id):
        model = model_selectors.model_get(model_id=model_id)
        offer = download_services.model_download_grant(user=request.user, model=model)
        return Response(
            {
                "downloadUrl": download_url(request, offer.token),
                "expiresAt": offer.expires_at,
                "format": offer.format,
                "size": human_size(offer.size_bytes),
            }
        )
