"""Staff see every marketplace table in the admin."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from tests.marketplace.factories import DatasetFactory, PurchaseFactory, TrainedModelFactory

pytestmark = pytest.mark.django_db


def test_every_marketplace_model_is_registered_and_its_pages_load(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    dataset = DatasetFactory(tags=["x"])
    PurchaseFactory(dataset=dataset)
    TrainedModelFactory(dataset=dataset)
    for model in apps.get_app_config("marketplace").get_models():
        assert admin.site.is_registered(model), model
        opts = model._meta
        r = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        assert r.status_code == 200, model
    r = client.get(reverse("admin:marketplace_dataset_change", args=[dataset.pk]))
    assert r.status_code == 200


def test_prices_show_the_decimals_that_matter_not_eighteen(admin_client):
    dataset = DatasetFactory(price=Decimal("10.5"), price_per_row=Decimal("0.000125"), currency="ETH")
    purchase = PurchaseFactory(dataset=dataset, amount=Decimal("10.5"))

    listing = admin_client.get(reverse("admin:marketplace_dataset_changelist")).content.decode()
    form = admin_client.get(reverse("admin:marketplace_dataset_change", args=[dataset.pk])).content.decode()
    purchases = admin_client.get(reverse("admin:marketplace_purchase_changelist")).content.decode()
    purchase_page = admin_client.get(reverse("admin:marketplace_purchase_change", args=[purchase.pk])).content.decode()

    assert "10.50 ETH" in listing
    assert 'name="price" value="10.50"' in form and 'name="price_per_row" value="0.000125"' in form
    assert "10.50 ETH" in purchases and "10.50 ETH" in purchase_page
    for page in (listing, form, purchases, purchase_page):
        assert "10.500000" not in page and "0.000125000" not in page
