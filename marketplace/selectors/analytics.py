"""A creator's analytics of one dataset, from what the server records and nothing it does not.

- views / downloads per day: the daily counters (a detail view by anyone but the creator counts
  as a view; a granted download link counts as a download), the last ANALYTICS_DAYS days, zero days
  included.
- revenue per month: completed purchases, in the dataset's currency.
- demographics: the server stores no location for anyone (no IP geolocation, by design), so
  ``topCountries`` is a single ``"unknown"`` bucket counting the distinct buyers; ``useCases`` counts
  what the server does see people do with the dataset: purchases, downloads, and models trained on it.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncMonth

from marketplace import conf
from marketplace.models import Dataset, DatasetDailyStats, Purchase, TrainedModel, stats_day


def dataset_analytics(*, dataset: Dataset) -> dict:
    since = stats_day() - timedelta(days=conf.ANALYTICS_DAYS - 1)
    daily = {
        row["date"]: row
        for row in DatasetDailyStats.objects.filter(dataset=dataset, date__gte=since).values(
            "date", "views", "downloads"
        )
    }
    days = [since + timedelta(days=offset) for offset in range(conf.ANALYTICS_DAYS)]
    completed = Purchase.objects.filter(dataset=dataset, status=Purchase.Status.COMPLETED)
    monthly = (
        completed.annotate(month=TruncMonth("completed_at"))
        .values("month")
        .annotate(revenue=Sum("amount"))
        .order_by("month")
    )
    totals = completed.aggregate(revenue=Sum("amount"), buyers=Count("buyer", distinct=True), sales=Count("id"))
    models_trained = TrainedModel.objects.filter(dataset=dataset).count()
    use_cases = [
        {"category": "purchase", "count": totals["sales"]},
        {"category": "download", "count": dataset.downloads},
        {"category": "model_training", "count": models_trained},
    ]
    return {
        "views": {
            "total": dataset.views,
            "daily": [{"date": day.isoformat(), "views": daily.get(day, {}).get("views", 0)} for day in days],
        },
        "downloads": {
            "total": dataset.downloads,
            "daily": [{"date": day.isoformat(), "downloads": daily.get(day, {}).get("downloads", 0)} for day in days],
        },
        "revenue": {
            "total": totals["revenue"] or 0,
            "currency": dataset.currency,
            "monthly": [{"month": row["month"].strftime("%Y-%m"), "revenue": row["revenue"]} for row in monthly],
        },
        "demographics": {
            "topCountries": [{"country": "unknown", "count": totals["buyers"]}] if totals["buyers"] else [],
            "useCases": [case for case in use_cases if case["count"]],
        },
    }
