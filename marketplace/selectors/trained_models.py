"""Reads about models: the listing, one model, its relatives and download history."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Exists, F, OuterRef, Q, QuerySet, Sum

from core.pagination import Page, paginate_loaded
from marketplace.models import ModelDailyDownloads, ModelTag, TrainedModel, stats_day
from marketplace.selectors.datasets import datasets_visible_to

SORT_ORDERS = {
    # popular: downloads and stars together, then recency
    "popular": (F("downloads") + F("stars")).desc(),
    "recent": F("created_at").desc(),
    "accuracy": F("accuracy").desc(nulls_last=True),
    "downloads": F("downloads").desc(),
}
RECENT_DAYS = 30


def models_for_output() -> QuerySet[TrainedModel]:
    return TrainedModel.objects.select_related("trained_by__wallet_profile").prefetch_related("tag_rows")


@dataclass(frozen=True)
class ModelListParams:
    search: str = ""
    provider: str = ""
    tags: tuple[str, ...] = ()
    sort_by: str = "popular"
    page: int = 1
    limit: int = 20
    min_accuracy: float | None = None
    status: str = ""
    trained_by: object | None = None


def model_list(*, params: ModelListParams) -> Page:
    """A page of models matching ``params`` (its items ready for output), with the total."""
    models = TrainedModel.objects.all()
    if params.trained_by is not None:
        models = models.filter(trained_by=params.trained_by)
    if params.search:
        tag_match = ModelTag.objects.filter(model=OuterRef("pk"), name__iexact=params.search)
        models = models.filter(
            Q(name__icontains=params.search)
            | Q(description__icontains=params.search)
            | Q(base_model__icontains=params.search)
            | Exists(tag_match)
        )
    if params.provider:
        models = models.filter(provider__iexact=params.provider)
    if params.tags:
        models = models.filter(
            Exists(ModelTag.objects.filter(model=OuterRef("pk"), name__in=[tag.lower() for tag in params.tags]))
        )
    if params.min_accuracy is not None:
        models = models.filter(accuracy__gte=params.min_accuracy)
    if params.status:
        models = models.filter(status=params.status)
    order = SORT_ORDERS.get(params.sort_by, SORT_ORDERS["popular"])
    return paginate_loaded(
        models.order_by(order, "-id"),
        page=params.page,
        limit=params.limit,
        load=lambda keys: models_for_output().filter(pk__in=keys),
    )


def training_datasets_visible_to(*, user, models: Iterable[TrainedModel]) -> frozenset:
    """The ids of the models' training datasets that ``user`` may see (one query for a page): the
    context ``ModelSerializer`` shows a training dataset's id and row count by."""
    dataset_ids = {model.dataset_id for model in models if model.dataset_id is not None}
    if not dataset_ids:
        return frozenset()
    return frozenset(datasets_visible_to(user=user).filter(pk__in=dataset_ids).values_list("pk", flat=True))


def models_for_detail() -> QuerySet[TrainedModel]:
    """Every model (they are public listings), with what its detail reads: its training dataset too."""
    return models_for_output().select_related("dataset")


def model_related(*, model: TrainedModel, limit: int = 6) -> list[TrainedModel]:
    """Models on the same dataset or base model, or sharing a tag; most downloaded first."""
    tag_names = [tag.name for tag in model.tag_rows.all()]
    related = Q(base_model=model.base_model) | Exists(ModelTag.objects.filter(model=OuterRef("pk"), name__in=tag_names))
    if model.dataset_id:
        related |= Q(dataset_id=model.dataset_id)
    return list(models_for_output().filter(related).exclude(pk=model.pk).order_by("-downloads", "-created_at")[:limit])


def model_download_stats(*, model: TrainedModel, days: int = RECENT_DAYS) -> dict:
    """Total downloads, those of the last ``days`` days, and a per-day history (zero days included)."""
    since = stats_day() - timedelta(days=days - 1)
    rows = dict(ModelDailyDownloads.objects.filter(model=model, date__gte=since).values_list("date", "downloads"))
    history = [
        {"date": (since + timedelta(days=offset)).isoformat(), "downloads": rows.get(since + timedelta(days=offset), 0)}
        for offset in range(days)
    ]
    recent = ModelDailyDownloads.objects.filter(model=model, date__gte=since).aggregate(total=Sum("downloads"))
    return {"totalDownloads": model.downloads, "recentDownloads": recent["total"] or 0, "downloadHistory": history}
