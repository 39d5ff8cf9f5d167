"""Counters: views, downloads and stars per dataset and day, downloads per model and day, trending.

Every bump is a single ``UPDATE ... SET n = n + 1`` (on the row and on the day's counter), so
concurrent requests never lose a count and no row lock is held longer than one statement.

Trending score (recomputed for every listed dataset by the periodic task)::

    score = sum over the last TRENDING_WINDOW_DAYS days d of
            (views_d + 5 * downloads_d + 3 * stars_d) * 0.5 ** (age_in_days_d / TRENDING_HALF_LIFE_DAYS)

so activity halves in weight every week (by default) and stops counting after 30 days.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

from django.db import IntegrityError, transaction
from django.db.models import F

from marketplace import conf
from marketplace.models import Dataset, DatasetDailyStats, ModelDailyDownloads, TrainedModel, stats_day

VIEW_WEIGHT = 1.0
DOWNLOAD_WEIGHT = 5.0
STAR_WEIGHT = 3.0


def _bump_daily(model, *, owner_field: str, owner_id, counter: str, amount: int) -> None:
    lookup = {owner_field: owner_id, "date": stats_day()}
    if model.objects.filter(**lookup).update(**{counter: F(counter) + amount}):
        return
    try:
        with transaction.atomic():
            model.objects.create(**lookup, **{counter: amount})
    except IntegrityError:  # another request created today's row first
        model.objects.filter(**lookup).update(**{counter: F(counter) + amount})


def dataset_view_record(*, dataset_id) -> None:
    """Count one view of a dataset (on the row and in today's counter)."""
    Dataset.objects.filter(pk=dataset_id).update(views=F("views") + 1)
    _bump_daily(DatasetDailyStats, owner_field="dataset_id", owner_id=dataset_id, counter="views", amount=1)


def dataset_download_record(*, dataset_id) -> None:
    Dataset.objects.filter(pk=dataset_id).update(downloads=F("downloads") + 1)
    _bump_daily(DatasetDailyStats, owner_field="dataset_id", owner_id=dataset_id, counter="downloads", amount=1)


def dataset_star_record(*, dataset_id, delta: int) -> None:
    _bump_daily(DatasetDailyStats, owner_field="dataset_id", owner_id=dataset_id, counter="stars", amount=delta)


def model_download_record(*, model_id) -> None:
    TrainedModel.objects.filter(pk=model_id).update(downloads=F("downloads") + 1)
    _bump_daily(ModelDailyDownloads, owner_field="model_id", owner_id=model_id, counter="downloads", amount=1)


def trending_score(daily: list[tuple[date, int, int, int]], *, on: date) -> float:
    """The score of (date, views, downloads, stars) rows as of ``on`` (see the module docstring)."""
    score = 0.0
    for day, views, downloads, stars in daily:
        age = (on - day).days
        if age < 0 or age >= conf.TRENDING_WINDOW_DAYS:
            continue
        weight = 0.5 ** (age / conf.TRENDING_HALF_LIFE_DAYS)
        score += (VIEW_WEIGHT * views + DOWNLOAD_WEIGHT * downloads + STAR_WEIGHT * stars) * weight
    return round(max(score, 0.0), 4)


def datasets_trending_refresh() -> int:
    """Recompute the stored trending score of every dataset; returns how many changed."""
    on = stats_day()
    since = on - timedelta(days=conf.TRENDING_WINDOW_DAYS - 1)
    daily: dict = defaultdict(list)
    rows = DatasetDailyStats.objects.filter(date__gte=since).values_list(
        "dataset_id", "date", "views", "downloads", "stars"
    )
    for dataset_id, day, views, downloads, stars in rows.iterator(chunk_size=5000):
        daily[dataset_id].append((day, views, downloads, stars))
    changed = []
    for dataset in Dataset.objects.only("id", "trending_score").iterator(chunk_size=2000):
        score = trending_score(daily.get(dataset.id, []), on=on)
        if score != dataset.trending_score:
            dataset.trending_score = score
            changed.append(dataset)
    Dataset.objects.bulk_update(changed, ["trending_score"], batch_size=1000)
    return len(changed)
