"""Reads about a marketplace user: profile figures, their purchases."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, QuerySet, Sum

from marketplace.models import Dataset, Purchase, TrainedModel

SALE_REPUTATION = 2


@dataclass(frozen=True)
class UserStats:
    total_datasets: int
    total_models: int
    total_downloads: int
    reputation: int


def user_stats(*, user) -> UserStats:
    """Figures of a creator (two queries).

    reputation = stars on their live datasets + stars on their models + 2 per completed sale.
    totalDownloads = downloads of their live datasets and of their models.
    """
    datasets = Dataset.objects.filter(creator=user, deleted_at__isnull=True).aggregate(
        count=Count("id"), stars=Sum("stars"), downloads=Sum("downloads"), sales=Sum("purchases")
    )
    models = TrainedModel.objects.filter(trained_by=user).aggregate(
        count=Count("id"), stars=Sum("stars"), downloads=Sum("downloads")
    )
    return UserStats(
        total_datasets=datasets["count"],
        total_models=models["count"],
        total_downloads=(datasets["downloads"] or 0) + (models["downloads"] or 0),
        reputation=(datasets["stars"] or 0) + (models["stars"] or 0) + SALE_REPUTATION * (datasets["sales"] or 0),
    )


def purchases_of_buyer(*, user) -> QuerySet[Purchase]:
    """The user's purchases (every status), newest first, with what the serializer reads.

    Purchases of datasets deleted since are left out: a deleted dataset is shown to no one.
    """
    return (
        Purchase.objects.filter(buyer=user, dataset__deleted_at__isnull=True)
        .select_related("dataset__creator__wallet_profile")
        .prefetch_related("dataset__tag_rows")
        .order_by("-created_at", "-id")
    )
