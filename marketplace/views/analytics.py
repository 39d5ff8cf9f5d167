"""``/analytics/datasets/:id``: a dataset's figures, for its creator only."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from marketplace.errors import DATASET_NOT_FOUND
from marketplace.selectors import datasets as dataset_selectors
from marketplace.selectors.analytics import dataset_analytics
from marketplace.views.base import DATASET_CREATOR_ONLY, MarketplaceViewSet


def _series(name: str, value_field: str, key: str = "date") -> serializers.Serializer:
    return inline_serializer(
        f"MarketplaceAnalytics{name}",
        {
            "total": serializers.FloatField(),
            "daily" if key == "date" else "monthly": serializers.ListField(
                child=inline_serializer(
                    f"MarketplaceAnalytics{name}Point",
                    {key: serializers.CharField(), value_field: serializers.FloatField()},
                )
            ),
        },
    )


AnalyticsResponse = inline_serializer(
    "MarketplaceDatasetAnalytics",
    {
        "views": _series("Views", "views"),
        "downloads": _series("Downloads", "downloads"),
        "revenue": _series("Revenue", "revenue", key="month"),
        "demographics": inline_serializer(
            "MarketplaceAnalyticsDemographics",
            {
                "topCountries": serializers.ListField(
                    child=inline_serializer(
                        "MarketplaceCountryCount",
                        {"country": serializers.CharField(), "count": serializers.IntegerField()},
                    )
                ),
                "useCases": serializers.ListField(
                    child=inline_serializer(
                        "MarketplaceUseCaseCount",
                        {"category": serializers.CharField(), "count": serializers.IntegerField()},
                    )
                ),
            },
        ),
    },
)


class DatasetAnalyticsViewSet(MarketplaceViewSet):
    """A dataset's figures, for its creator only: a dataset you cannot see is a 404, one you see but did
    not create a 403."""

    lookup_url_kwarg = "dataset_id"
    not_found = DATASET_NOT_FOUND
    permission_classes = DATASET_CREATOR_ONLY

    def get_queryset(self):
        return dataset_selectors.datasets_visible_to(user=self.request.user)

    @extend_schema(
        summary="Views, downloads, revenue and demographics of a dataset (creator only)",
        responses={200: AnalyticsResponse},
    )
    def retrieve(self, request, dataset_id):
        return Response(dataset_analytics(dataset=self.get_object()))
