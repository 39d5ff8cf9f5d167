"""Factories of marketplace rows (states are set by the fixtures that use them: ``job_queued``, ...)."""

from decimal import Decimal

import factory
from eth_account import Account

from core import storage
from marketplace.models import (
    Dataset,
    DatasetFile,
    DatasetTag,
    GenerationJob,
    ModelTag,
    Purchase,
    TrainedModel,
    TrainingJob,
    Upload,
    WalletProfile,
)
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


class DatasetFileFactory(factory.django.DjangoModelFactory):
    """A stored file of a dataset: the content is really in storage, under its CID."""

    class Meta:
        model = DatasetFile
        exclude = ["content", "stored"]

    content = b'[{"amount": 1.5}, {"amount": 2.5}]'
    stored = factory.LazyAttribute(lambda file: storage.save_bytes(file.content))
    dataset = factory.SubFactory(DatasetFactory)
    kind = DatasetFile.Kind.FULL
    format = "json"
    cid = factory.LazyAttribute(lambda file: file.stored.cid)
    size_bytes = factory.LazyAttribute(lambda file: file.stored.size)


class GenerationJobFactory(factory.django.DjangoModelFactory):
    """A queued generation of a dataset that is ``generating``, owned by its creator."""

    class Meta:
        model = GenerationJob

    dataset = factory.SubFactory(DatasetFactory, status=Dataset.Status.GENERATING, format="json")
    user = factory.LazyAttribute(lambda job: job.dataset.creator)
    config = factory.LazyFunction(lambda: {"rows": 2, "format": "json"})


class TrainingJobFactory(factory.django.DjangoModelFactory):
    """A queued training of a model that is ``training``, owned by its trainer."""

    class Meta:
        model = TrainingJob

    model = factory.SubFactory(TrainedModelFactory, status=TrainedModel.Status.TRAINING)
    user = factory.LazyAttribute(lambda job: job.model.trained_by)
    estimated_time = 60


class UploadFactory(factory.django.DjangoModelFactory):
    """A dataset file a user uploaded (``POST /storage/upload``), stored by CID."""

    class Meta:
        model = Upload
        exclude = ["content", "stored"]

    content = b"amount\n1.5\n"
    stored = factory.LazyAttribute(lambda upload: storage.save_bytes(upload.content))
    user = factory.SubFactory(UserFactory)
    type = Upload.Type.DATASET
    filename = "data.csv"
    content_type = "text/csv"
    format = "csv"
    cid = factory.LazyAttribute(lambda upload: upload.stored.cid)
    size_bytes = factory.LazyAttribute(lambda upload: upload.stored.size)
    rows = 1
    inferred_schema = factory.LazyFunction(
        lambda: [{"id": "f1", "name": "amount", "type": "float", "description": "", "constraints": {}}]
    )
