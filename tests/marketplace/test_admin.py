"""Staff see every marketplace table in the admin."""

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
    assert r.status_code == 200, r.content
