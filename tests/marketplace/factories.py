"""Factories of marketplace rows (states are set by the fixtures that use them)."""

from decimal import Decimal

import factory
from eth_account import Account

from marketplace.models import Dataset, DatasetTag, ModelTag, Purchase, TrainedModel, WalletProfile
from tests.factories import UserFactory


class WalletProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WalletProfile

    user = factory.SubFactory(UserFactory)
    wallet_address = factory.LazyFunction(lambda: Account.create().address)


class DatasetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dataset
        skip_postgeneration_save = True

    creator = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Dataset {n}")
    description = "Synthetic rows for testing"
    category = "finance"
    schema = factory.LazyFunction(
        lambda: [{"id": "f1", "name": "amount", "type": "float", "description": "", "constraints": {"min": 0}}]
    )
    status = Dataset.Status.READY
    visibility = Dataset.Visibility.PUBLIC
    price = Decimal(0)
    currency = "ETH"
    rows = 100

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            DatasetTag.objects.bulk_create([DatasetTag(dataset=self, name=name) for name in extracted])


class PurchaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Purchase

    dataset = factory.SubFactory(DatasetFactory)
    buyer = factory.SubFactory(UserFactory)
    amount = factory.LazyAttribute(lambda purchase: purchase.dataset.price)
    currency = "ETH"
    payment_method = Purchase.PaymentMethod.CRYPTO
    transaction_hash = factory.Sequence(lambda n: "0x" + f"{n:064x}")
    status = Purchase.Status.COMPLETED


class TrainedModelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TrainedModel

    name = factory.Sequence(lambda n: f"Model {n}")
    provider = "synthik"
    base_model = "llama-3-8b"
    trained_by = factory.SubFactory(UserFactory)
    status = TrainedModel.Status.READY
    training_config = factory.LazyFunction(lambda: {"epochs": 3, "batchSize": 32, "learningRate": 0.001})


class ModelTagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ModelTag

    model = factory.SubFactory(TrainedModelFactory)
    name = "tag"
