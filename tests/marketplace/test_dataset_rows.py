"""A listing's datasets are read as columns (selectors.datasets.dataset_rows) and answered by
serializers.outputs.dataset_rows_representation: the answer must be DatasetSerializer's, byte for byte."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.settings import api_settings

from marketplace.models import Dataset
from marketplace.selectors.datasets import dataset_access_for, dataset_rows, datasets_for_output
from marketplace.serializers.outputs import DatasetSerializer, dataset_rows_representation
from tests.factories import UserFactory
from tests.marketplace.conftest import client_for
from tests.marketplace.factories import DatasetFactory, PurchaseFactory, WalletProfileFactory

API = "/marketplace/v1"

pytestmark = pytest.mark.django_db


def rendered(data) -> bytes:
    return api_settings.DEFAULT_RENDERER_CLASSES[0]().render(data)


def varied_datasets(viewer) -> list[Dataset]:
    """Datasets that differ in everything the output reads: creators with and without a wallet, the
    viewer's own, bought and not bought, free and paid, tags or none, lineage, block, odd numbers."""
    with_wallet = WalletProfileFactory().user
    without_wallet = UserFactory()
    later = timezone.now() + timedelta(days=3, microseconds=123)
    datasets = [
        DatasetFactory(creator=with_wallet, tags=["zeta", "alpha", "Mixed Case"]),
        DatasetFactory(creator=without_wallet, price=Decimal("1.500000000000000000"), rating=Decimal("4.25")),
        DatasetFactory(
            creator=with_wallet,
            price=Decimal("0.000000000000000001"),
            price_per_row=Decimal("12.340"),
            visibility=Dataset.Visibility.PRIVATE,
            block_number=123456789012,
            transaction_hash="0x" + "ab" * 32,
            full_cid="bafyfull",
            preview_cid="bafypreview",
            generation_lineage={"model": "gpt", "augmentationSteps": ["a", "b"], "verification": True, "x": 1},
            size_bytes=5 * 1024 * 1024 + 17,
            tokens=2**40,
        ),
        DatasetFactory(creator=viewer, price=Decimal(7), full_cid="bafymine", schema=[], description=""),
        DatasetFactory(
            creator=without_wallet,
            price=Decimal(3),
            full_cid="bafybought",
            schema=[
                {"name": "when", "type": "date"},
                {"id": "e", "name": "kind", "type": "enum", "constraints": {"enum": ["a", "b"], "required": True}},
            ],
            status=Dataset.Status.GENERATING,
            visibility=Dataset.Visibility.RESTRICTED,
        ),
        DatasetFactory(creator=with_wallet, full_cid="bafyfree", last_modified=later, downloads=3, stars=2),
    ]
    PurchaseFactory(dataset=datasets[4], buyer=viewer)
    PurchaseFactory(dataset=datasets[2], buyer=viewer)
    return datasets


@pytest.mark.parametrize("viewer_kind", ["buyer", "stranger", "anonymous"])
def test_rows_are_answered_as_the_dataset_serializer_answers_models(viewer_kind):
    from django.contrib.auth.models import AnonymousUser

    buyer = WalletProfileFactory().user
    keys = [dataset.pk for dataset in varied_datasets(buyer)]
    viewer = {"buyer": buyer, "stranger": UserFactory(), "anonymous": AnonymousUser()}[viewer_kind]

    models = sorted(datasets_for_output().filter(pk__in=keys), key=lambda dataset: str(dataset.pk))
    rows = sorted(dataset_rows(keys), key=lambda row: str(row.pk))
    expected = DatasetSerializer(models, many=True, context={"access": dataset_access_for(viewer, models)}).data
    answered = dataset_rows_representation(rows, access=dataset_access_for(viewer, rows))

    assert rendered(answered) == rendered(expected)
    assert [item["fullFilecoinCID"] is not None for item in answered] == [
        item["fullFilecoinCID"] is not None for item in expected
    ]


def test_the_listing_answers_each_dataset_as_its_detail_does():
    buyer = WalletProfileFactory().user
    varied_datasets(buyer)
    client = client_for(buyer)

    listed = client.get(f"{API}/datasets", {"visibility": "all", "limit": 50, "sortBy": "recent"})

    assert listed.status_code == 200, listed.json()
    # Public ready ones and the buyer's own: neither the private one it bought nor the generating one
    assert len(listed.json()["datasets"]) == 4
    for item in listed.json()["datasets"]:
        detail = client.get(f"{API}/datasets/{item['id']}").json()["dataset"]
        assert rendered(item) == rendered(detail)


def test_rows_of_no_keys_cost_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert dataset_rows([]) == []
