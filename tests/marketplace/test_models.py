"""Models: listing and filters, detail with download history, training requests, downloads."""

import threading
from decimal import Decimal

import pytest

from core import jobs, storage
from marketplace.models import ModelDailyDownloads, TrainedModel, TrainingJob
from marketplace.serializers.inputs import ModelCreateSerializer
from marketplace.services import training_runner
from marketplace.training import BASE_MODEL_NAMES
from tests.marketplace.conftest import API
from tests.marketplace.factories import DatasetFactory, ModelTagFactory, TrainedModelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def model_ready(creator):
    stored = storage.save_bytes(b"weights")
    model = TrainedModelFactory(trained_by=creator, filecoin_cid=stored.cid, accuracy=0.9, base_model="openai/gpt")
    ModelTagFactory(model=model, name="nlp")
    return model


def test_list_filters_and_sorts(api_client, django_assert_max_num_queries):
    a = TrainedModelFactory(name="alpha", provider="openai", accuracy=0.7, downloads=10, status="ready")
    ModelTagFactory(model=a, name="vision")
    TrainedModelFactory(name="beta", provider="meta", accuracy=0.9, downloads=1, status="training")
    with django_assert_max_num_queries(5):
        r = api_client.get(f"{API}/models")
    assert r.status_code == 200, r.json()
    assert [m["name"] for m in r.json()["models"]] == ["alpha", "beta"]
    assert r.json()["pagination"]["total"] == 2
    get = lambda **p: [m["name"] for m in api_client.get(f"{API}/models", p).json()["models"]]  # noqa: E731
    assert get(sortBy="accuracy") == ["beta", "alpha"]
    assert get(provider="meta") == ["beta"]
    assert get(tags="vision") == ["alpha"]
    assert get(minAccuracy=0.8) == ["beta"]
    assert get(status="training") == ["beta"]
    assert get(search="alp") == ["alpha"]


def test_detail_has_download_stats_related_and_dataset(api_client, model_ready, creator):
    dataset = DatasetFactory(creator=creator)
    model_ready.dataset = dataset
    model_ready.save()
    sibling = TrainedModelFactory(dataset=dataset)
    ModelDailyDownloads.objects.create(model=model_ready, date=model_ready.created_at.date(), downloads=3)
    r = api_client.get(f"{API}/models/{model_ready.id}")
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["model"]["tags"] == ["nlp"] and body["model"]["status"] == "ready"
    assert body["trainingDataset"]["id"] == str(dataset.id)
    assert [m["id"] for m in body["relatedModels"]] == [str(sibling.id)]
    stats = body["downloadStats"]
    assert stats["recentDownloads"] == 3 and len(stats["downloadHistory"]) == 30
    assert stats["downloadHistory"][-1]["downloads"] == 3


def test_a_private_training_dataset_is_hidden_from_others(api_client, creator, creator_client, stranger_client):
    private = DatasetFactory(creator=creator, visibility="private", rows=4321)
    model = TrainedModelFactory(trained_by=creator, dataset=private, dataset_rows=4321, base_model="sklearn/x")
    sibling = TrainedModelFactory(trained_by=creator, dataset=private, dataset_rows=4321, base_model="sklearn/x")
    hidden = {"datasetUsed": None, "datasetRows": None}

    for client in (api_client, stranger_client):
        detail = client.get(f"{API}/models/{model.id}").json()
        assert detail["trainingDataset"] is None
        # neither the private dataset's id nor its size, in any of the model's representations
        assert {key: detail["model"][key] for key in hidden} == hidden
        assert [{key: m[key] for key in hidden} for m in detail["relatedModels"]] == [hidden]
        listed = client.get(f"{API}/models").json()["models"]
        assert [{key: m[key] for key in hidden} for m in listed] == [hidden, hidden]
        assert str(private.id) not in str(detail) + str(listed)

    shown = creator_client.get(f"{API}/models/{model.id}").json()
    assert shown["model"]["datasetUsed"] == str(private.id) and shown["model"]["datasetRows"] == 4321
    assert shown["relatedModels"][0]["id"] == str(sibling.id)
    assert shown["relatedModels"][0]["datasetUsed"] == str(private.id)


def test_train_a_model_creates_it_and_a_queued_job(creator_client, dataset_free, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = creator_client.post(
            f"{API}/models",
            {
                "name": "Fraud detector",
                "datasetId": str(dataset_free.id),
                "baseModel": "sklearn/random-forest",
                "trainingConfig": {"epochs": 2, "batchSize": 16, "learningRate": 0.001},
                "tags": ["Fraud"],
            },
            format="json",
        )
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["model"]["status"] == "training" and body["model"]["provider"] == "sklearn"
    assert body["model"]["datasetUsed"] == str(dataset_free.id) and body["model"]["tags"] == ["fraud"]
    assert body["trainingJob"]["status"] == "queued" and body["trainingJob"]["estimatedTime"] > 0
    assert TrainingJob.objects.get(pk=body["trainingJob"]["id"]).status == "queued"
    assert len(callbacks) == 1  # handed to the training engine after commit


def test_training_needs_access_to_a_ready_dataset(stranger_client, creator, dataset_paid):
    body = {"name": "m", "datasetId": str(dataset_paid.id), "baseModel": "random-forest"}
    r = stranger_client.post(f"{API}/models", body, format="json")
    assert r.status_code == 402, r.json()
    generating = DatasetFactory(creator=creator, status="generating")
    own = stranger_client.post(f"{API}/models", {**body, "datasetId": str(generating.id)}, format="json")
    assert own.status_code == 409, own.json()
    private = DatasetFactory(creator=creator, visibility="private", price=Decimal(0))
    hidden = stranger_client.post(f"{API}/models", {**body, "datasetId": str(private.id)}, format="json")
    assert hidden.status_code == 404, hidden.json()


def test_an_unknown_base_model_is_refused_up_front_naming_the_choices(creator_client, dataset_free):
    # given a base model that is not one of the documented estimators
    body = {"name": "m", "datasetId": str(dataset_free.id), "baseModel": "meta/llama-3-8b"}
    # when a training is asked for
    r = creator_client.post(f"{API}/models", body, format="json")
    # then it is a 400 naming every choice, and no model or job was created
    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and "baseModel" in error["details"]
    for name in BASE_MODEL_NAMES:
        assert name in error["message"]
    assert not TrainedModel.objects.exists() and not TrainingJob.objects.exists()


def test_the_base_model_help_text_lists_every_estimator():
    help_text = ModelCreateSerializer().fields["baseModel"].help_text
    assert all(name in help_text for name in BASE_MODEL_NAMES)


def test_model_download_counts_and_tells_the_trainer(stranger_client, model_ready, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = stranger_client.get(f"{API}/models/{model_ready.id}/download")
    assert r.status_code == 200, r.json()
    assert b"".join(stranger_client.get(r.json()["downloadUrl"]).streaming_content) == b"weights"
    model_ready.refresh_from_db()
    assert model_ready.downloads == 1
    assert ModelDailyDownloads.objects.get(model=model_ready).downloads == 1
    assert len(callbacks) == 1  # the model.downloaded event to the trainer


def test_a_model_still_training_cannot_be_downloaded(stranger_client):
    model = TrainedModelFactory(status="training")
    r = stranger_client.get(f"{API}/models/{model.id}/download")
    assert r.status_code == 409, r.json()
    assert r.json()["error"]["code"] == "MODEL_NOT_READY"


@pytest.mark.parametrize(
    ("base_model", "training_config", "named"),
    [
        ("mlp-classifier", {"hyperparameters": {"hiddenLayers": [64] * 10}}, "hiddenLayers"),
        ("mlp-classifier", {"hyperparameters": {"hiddenLayers": [100_000]}}, "hiddenLayers"),
        ("mlp-classifier", {"hyperparameters": {"hiddenLayers": "64,64"}}, "hiddenLayers"),
        ("random-forest", {"hyperparameters": {"nEstimators": 1_000_000}}, "nEstimators"),
        ("decision-tree", {"hyperparameters": {"maxDepth": 10_000}}, "maxDepth"),
        ("logistic-regression", {"hyperparameters": {"C": 1e12}}, "C"),
        ("sgd-classifier", {"epochs": 10**9}, "epochs"),
        ("sgd-classifier", {"batchSize": 10**9}, "batchSize"),
        ("sgd-classifier", {"epochs": 0}, "epochs"),
        ("mlp-classifier", {"epochs": 1000, "batchSize": 1}, "mini-batch steps"),
    ],
)
def test_every_training_size_is_capped_before_a_model_or_job_exists(
    creator_client, creator, base_model, training_config, named
):
    # Given a dataset of the largest size training reads
    dataset = DatasetFactory(creator=creator, rows=200_000, full_cid=storage.save_bytes(b"rows").cid)
    body = {"name": "m", "datasetId": str(dataset.id), "baseModel": base_model, "trainingConfig": training_config}

    # When a training past a cap is asked for
    r = creator_client.post(f"{API}/models", body, format="json")

    # Then it is a 400 naming the knob, and nothing was created or queued
    assert r.status_code == 400, r.json()
    error = r.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and named in error["message"] + str(error["details"]), error
    assert not TrainedModel.objects.exists() and not TrainingJob.objects.exists()


def test_a_training_within_the_caps_is_queued_not_run_in_the_request(
    creator_client, dataset_free, django_capture_on_commit_callbacks
):
    body = {
        "name": "m",
        "datasetId": str(dataset_free.id),
        "baseModel": "mlp-classifier",
        "trainingConfig": {"epochs": 5, "hyperparameters": {"target": "amount", "hiddenLayers": [512, 512, 64, 8]}},
    }

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        r = creator_client.post(f"{API}/models", body, format="json")

    assert r.status_code == 201, r.json()
    assert r.json()["trainingJob"]["status"] == "queued"
    assert TrainingJob.objects.get().status == "queued" and len(callbacks) == 1


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_the_training_runs_on_a_job_thread_after_the_answer(
    creator_client, dataset_free, settings, monkeypatch
):
    # Given the embedded default's job pool (no broker) and a training that holds until released
    settings.JOBS_IN_PROCESS = "thread"
    started, release = threading.Event(), threading.Event()
    train = training_runner.job_model_train

    def held_training(*args, **kwargs):
        started.set()
        release.wait(timeout=30)
        return train(*args, **kwargs)

    monkeypatch.setattr(training_runner, "job_model_train", held_training)
    body = {"name": "m", "datasetId": str(dataset_free.id), "baseModel": "mlp-classifier", "trainingConfig": {}}

    # When the training is asked for
    r = creator_client.post(f"{API}/models", body, format="json")

    # Then the answer comes while the training is still running elsewhere, and it ends after
    try:
        assert r.status_code == 201, r.json()
        assert started.wait(timeout=30), "the job never started"
        assert TrainingJob.objects.get().status == "running"
    finally:
        release.set()
    assert jobs.in_process_jobs_wait(timeout=60)
    assert TrainingJob.objects.get().status in ("completed", "failed")
