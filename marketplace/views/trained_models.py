"""``/models``: list, detail with download history, training requests, and download links."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from core.openapi import one_object, raises
from marketplace.errors import DATASET_NOT_FOUND, DATASET_NOT_READY, MODEL_NOT_FOUND, MODEL_NOT_READY, PAYMENT_REQUIRED
from marketplace.selectors import datasets as dataset_selectors
from marketplace.selectors import trained_models as model_selectors
from marketplace.serializers.inputs import ModelCreateSerializer, ModelListQuerySerializer
from marketplace.serializers.outputs import DatasetSerializer, ModelSerializer
from marketplace.services import downloads as download_services
from marketplace.services import trained_models as model_services
from marketplace.views.base import (
    DATASETS_BUDGET,
    OPEN_TO_ANYONE,
    PAGE_FIELDS,
    MarketplaceViewSet,
    page_answer,
)
from marketplace.views.datasets import DownloadResponse, download_answer

ModelListResponse = one_object(
    inline_serializer("MarketplaceModelList", {"models": ModelSerializer(many=True), **PAGE_FIELDS})
)
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


def models_representation(models, *, user) -> list[dict]:
    """The spec's Model for each of ``models``, as ``user`` may see it (``ModelSerializer``)."""
    models = list(models)
    shown = model_selectors.training_datasets_visible_to(user=user, models=models)
    return ModelSerializer(models, many=True, context={"training_datasets_shown": shown}).data


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
    return Response(page_answer(page, models=models_representation(page.items, user=request.user)))


class ModelViewSet(MarketplaceViewSet):
    """Trained models, all of them public listings: anyone may list and read them; training one and a
    download link need a sign-in (the link draws on the dataset operations' budget, 100 an hour)."""

    lookup_url_kwarg = "model_id"
    not_found = MODEL_NOT_FOUND
    body_serializers = {"create": ModelCreateSerializer}
    query_serializers = {"list": ModelListQuerySerializer}
    action_permission_classes = {"list": OPEN_TO_ANYONE, "retrieve": OPEN_TO_ANYONE}
    action_rate_limit_scopes = {"download": DATASETS_BUDGET}

    def get_queryset(self):
        return model_selectors.models_for_detail()

    @extend_schema(
        summary="List and search models",
        operation_id="marketplace_models_list",
        parameters=[OpenApiParameter("tags", str, many=True, explode=True)],
        responses={200: ModelListResponse},
    )
    def list(self, request):
        return model_list_response(request, self.validated_query())

    @extend_schema(
        summary="Train a model on a dataset (creates the model and its queued training job)",
        responses={201: ModelCreateResponse},
    )
    @raises(DATASET_NOT_FOUND, PAYMENT_REQUIRED, DATASET_NOT_READY)
    def create(self, request):
        data = self.validated_body()
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
        model = self.get_queryset().get(pk=created.model.pk)
        job = created.training_job
        return Response(
            {
                "model": models_representation([model], user=request.user)[0],
                "trainingJob": {"id": job.pk, "status": job.status, "estimatedTime": job.estimated_time},
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="A model with its training dataset, related models and download history",
        responses={200: ModelDetailResponse},
    )
    def retrieve(self, request, model_id):
        model = self.get_object()
        training_dataset = None
        if model.dataset_id:
            datasets = list(dataset_selectors.datasets_for_output().filter(pk=model.dataset_id))
            access = dataset_selectors.dataset_access_for(request.user, datasets)
            if datasets and access.can_view(datasets[0]):
                training_dataset = DatasetSerializer(datasets[0], context={"access": access}).data
        model_data, *related_data = models_representation(
            [model, *model_selectors.model_related(model=model)], user=request.user
        )
        return Response(
            {
                "model": model_data,
                "trainingDataset": training_dataset,
                "relatedModels": related_data,
                "downloadStats": model_selectors.model_download_stats(model=model),
            }
        )

    @extend_schema(
        summary="A signed, expiring download link for a ready model's weights",
        responses={200: DownloadResponse},
    )
    @action(detail=True, methods=["get"])
    @raises(MODEL_NOT_READY)
    def download(self, request, model_id):
        offer = download_services.model_download_grant(user=request.user, model=self.get_object())
        return Response(download_answer(request, offer))
