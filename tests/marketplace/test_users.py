"""The signed-in user's profile, datasets, models and purchases; analytics for creators only."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from marketplace.models import DatasetDailyStats
from tests.marketplace.conftest import API
from tests.marketplace.factories import DatasetFactory, PurchaseFactory, TrainedModelFactory

pytestmark = pytest.mark.django_db


def test_profile_has_the_user_and_their_figures(creator, creator_client, buyer):
    dataset = DatasetFactory(creator=creator, stars=3, downloads=7, price=Decimal(1))
    PurchaseFactory(dataset=dataset, buyer=buyer)
    dataset.purchases = 1
    dataset.save()
    TrainedModelFactory(trained_by=creator, downloads=2, stars=1)
    r = creator_client.get(f"{API}/users/profile")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["stats"] == {"totalDatasets": 1, "totalModels": 1, "totalDownloads": 9, "reputation": 6}
    assert body["user"]["walletAddress"] == creator.wallet_profile.wallet_address
    assert body["user"]["reputation"] == 6 and body["user"]["totalDatasets"] == 1


def test_profile_update(creator_client, stranger):
    r = creator_client.put(
        f"{API}/users/profile",
        {"username": "satoshi", "email": "s@example.com", "avatar": "https://img.test/a.png"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    assert r.json()["user"]["username"] == "satoshi"
    assert r.json()["user"]["avatar"] == "https://img.test/a.png"
    taken = creator_client.put(f"{API}/users/profile", {"username": stranger.username}, format="json")
    assert taken.status_code == 409, taken.json()
    answer = creator_client.put(f"{API}/users/profile", {"email": "nope"}, format="json")
    assert answer.status_code == 400, answer.json()


def test_profile_needs_sign_in(api_client):
    r = api_client.get(f"{API}/users/profile")
    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


def test_my_datasets_filter_by_status_and_page(creator, creator_client, django_assert_max_num_queries):
    DatasetFactory.create_batch(3, creator=creator, status="ready", tags=["a"])
    DatasetFactory(creator=creator, status="generating", visibility="private")
    DatasetFactory(creator=creator, deleted_at=timezone.now())
    DatasetFactory()  # someone else's
    with django_assert_max_num_queries(6):
        r = creator_client.get(f"{API}/users/datasets", {"limit": 2})
    assert r.status_code == 200, r.json()
    assert r.json()["pagination"] == {"page": 1, "limit": 2, "total": 4, "totalPages": 2}
    generating = creator_client.get(f"{API}/users/datasets", {"status": "generating"}).json()
    assert [d["status"] for d in generating["datasets"]] == ["generating"]


def test_my_models(creator, creator_client, django_assert_max_num_queries):
    TrainedModelFactory.create_batch(3, trained_by=creator)
    TrainedModelFactory()
    with django_assert_max_num_queries(6):
        r = creator_client.get(f"{API}/users/models")
    assert r.status_code == 200, r.json()
    assert r.json()["pagination"]["total"] == 3
    assert {m["trainedBy"]["id"] for m in r.json()["models"]} == {str(creator.id)}


def test_my_purchases(buyer, buyer_client, stranger, django_assert_max_num_queries):
    for dataset in DatasetFactory.create_batch(3, price=Decimal(1), tags=["t"]):
        PurchaseFactory(dataset=dataset, buyer=buyer)
    PurchaseFactory(buyer=stranger)
    with django_assert_max_num_queries(7):
        r = buyer_client.get(f"{API}/users/purchases")
    assert r.status_code == 200, r.json()
    purchases = r.json()["purchases"]
    assert len(purchases) == 3
    assert {"id", "dataset", "amount", "currency", "purchasedAt", "transactionHash"} <= set(purchases[0])
    assert all(p["status"] == "completed" for p in purchases)


@pytest.mark.parametrize("status", ["pending", "failed"])
def test_a_purchase_not_completed_shows_no_private_dataset(creator, buyer, buyer_client, status):
    # given a purchase that never completed, of a dataset its creator has since made private
    hidden = DatasetFactory(creator=creator, price=Decimal(1), visibility="private", name="Secret v2")
    PurchaseFactory(dataset=hidden, buyer=buyer, status=status)
    # and one of a dataset still listed
    listed = DatasetFactory(creator=creator, price=Decimal(1))
    PurchaseFactory(dataset=listed, buyer=buyer, status=status)
    # when the buyer lists their purchases
    r = buyer_client.get(f"{API}/users/purchases")
    # then both rows are theirs to see, but the private dataset is not
    assert r.status_code == 200, r.json()
    datasets = {p["transactionHash"]: p["dataset"] for p in r.json()["purchases"]}
    assert len(datasets) == 2
    assert sorted(str(d and d["id"]) for d in datasets.values()) == sorted(["None", str(listed.id)])
    assert "Secret v2" not in str(r.json())


def test_a_completed_purchase_still_shows_a_dataset_made_private(creator, buyer, buyer_client):
    hidden = DatasetFactory(creator=creator, price=Decimal(1), visibility="private")
    PurchaseFactory(dataset=hidden, buyer=buyer)
    r = buyer_client.get(f"{API}/users/purchases")
    assert r.status_code == 200, r.json()
    assert r.json()["purchases"][0]["dataset"]["id"] == str(hidden.id)
    assert r.json()["purchases"][0]["dataset"]["fullFilecoinCID"] == hidden.full_cid


# --- analytics -----------------------------------------------------------------------------------


def test_analytics_for_the_creator(creator_client, dataset_paid, buyer, stranger):
    today = timezone.now().date()
    DatasetDailyStats.objects.create(dataset=dataset_paid, date=today, views=4, downloads=2)
    DatasetDailyStats.objects.create(dataset=dataset_paid, date=today - timedelta(days=1), views=1)
    PurchaseFactory(dataset=dataset_paid, buyer=buyer, completed_at=timezone.now())
    PurchaseFactory(dataset=dataset_paid, buyer=stranger, completed_at=timezone.now())
    dataset_paid.views, dataset_paid.downloads = 5, 2
    dataset_paid.save()
    r = creator_client.get(f"{API}/analytics/datasets/{dataset_paid.id}")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["views"]["total"] == 5
    assert body["views"]["daily"][-1] == {"date": today.isoformat(), "views": 4}
    assert body["views"]["daily"][-2]["views"] == 1 and len(body["views"]["daily"]) == 30
    assert body["downloads"]["daily"][-1]["downloads"] == 2
    assert body["revenue"]["total"] == 0.1
    assert body["revenue"]["monthly"] == [{"month": today.strftime("%Y-%m"), "revenue": 0.1}]
    assert body["demographics"]["topCountries"] == [{"country": "unknown", "count": 2}]
    assert {"category": "purchase", "count": 2} in body["demographics"]["useCases"]


def test_analytics_are_for_the_creator_only(stranger_client, dataset_paid, dataset_private):
    r = stranger_client.get(f"{API}/analytics/datasets/{dataset_paid.id}")
    assert r.status_code == 403, r.json()
    assert "views" not in r.json()
    answer = stranger_client.get(f"{API}/analytics/datasets/{dataset_private.id}")
    assert answer.status_code == 404, answer.json()
