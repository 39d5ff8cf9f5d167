"""The periodic upkeep: trending scores with time decay, used-nonce purge, overdue purchase checks."""

from datetime import timedelta

import pytest
from django.utils import timezone

from marketplace import conf
from marketplace.models import DatasetDailyStats, Purchase, UsedSiweNonce
from marketplace.services import stats
from marketplace.tasks import marketplace_upkeep_task
from tests.marketplace.factories import DatasetFactory, PurchaseFactory

pytestmark = pytest.mark.django_db


def test_trending_score_weighs_views_downloads_stars_and_halves_each_week():
    today = timezone.now().date()
    assert stats.trending_score([(today, 10, 1, 1)], on=today) == 18.0
    assert stats.trending_score([(today - timedelta(days=7), 10, 1, 1)], on=today) == 9.0
    assert stats.trending_score([(today - timedelta(days=conf.TRENDING_WINDOW_DAYS), 100, 0, 0)], on=today) == 0


def test_upkeep_refreshes_trending_and_purges_old_nonces():
    today = timezone.now().date()
    fresh, stale = DatasetFactory(), DatasetFactory()
    DatasetDailyStats.objects.create(dataset=fresh, date=today, views=3, downloads=1)
    DatasetDailyStats.objects.create(dataset=stale, date=today - timedelta(days=14), views=40)
    old = UsedSiweNonce.objects.create(nonce="oldnonce1", wallet_address="0x0")
    UsedSiweNonce.objects.filter(pk=old.pk).update(used_at=timezone.now() - timedelta(days=2))
    UsedSiweNonce.objects.create(nonce="newnonce1", wallet_address="0x0")

    result = marketplace_upkeep_task.delay().get()

    fresh.refresh_from_db()
    stale.refresh_from_db()
    assert fresh.trending_score == 8.0 and stale.trending_score == 10.0
    assert list(UsedSiweNonce.objects.values_list("nonce", flat=True)) == ["newnonce1"]
    assert result["trendingUpdated"] == 2 and result["noncesPurged"] == 1


def test_upkeep_rechecks_overdue_pending_purchases(monkeypatch):
    checked = []
    monkeypatch.setattr(
        "marketplace.tasks.purchase_recheck",
        lambda purchase_id, schedule_next: checked.append(purchase_id) or type("R", (), {"retry_in": None})(),
    )
    overdue = PurchaseFactory(status="pending")
    PurchaseFactory(status="pending")  # just checked
    PurchaseFactory(status="completed")
    Purchase.objects.filter(pk=overdue.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    marketplace_upkeep_task.delay()
    assert checked == [str(overdue.id)]
