"""Generation and training jobs: owner-only status, templates, and the seam the engine (issue 6) uses."""

import orjson
import pytest
from celery import current_app

from core import storage
from marketplace.models import Dataset, DatasetFile, GenerationJob, TrainedModel, WebhookDelivery
from marketplace.services import generation
from marketplace.services.webhooks import webhook_endpoint_create
from marketplace.tasks import GENERATION_JOB_RUN_TASK
from tests.marketplace.conftest import API
from tests.marketplace.factories import GenerationJobFactory, TrainingJobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def job_queued(creator):
    return GenerationJobFactory(dataset__creator=creator)


@pytest.fixture
def training_queued(creator):
    return TrainingJobFactory(model__trained_by=creator)


def test_job_status_is_for_its_owner_only(creator_client, stranger_client, job_queued):
    r = creator_client.get(f"{API}/generation/jobs/{job_queued.id}")
    assert r.status_code == 200, r.json()
    assert r.json()["job"]["status"] == "queued" and r.json()["job"]["result"] is None
    answer = stranger_client.get(f"{API}/generation/jobs/{job_queued.id}")
    assert answer.status_code == 404, answer.json()


def test_templates_are_listed(api_client):
    r = api_client.get(f"{API}/generation/templates")
    assert r.status_code == 200, r.json()
    ids = {t["id"] for t in r.json()["templates"]}
    assert {"customer-profiles", "financial-transactions", "patient-records", "support-conversations"} <= ids


@pytest.fixture
def engine_slot():
    """Frees the generation task's name for the test and puts the real engine's task back after."""
    original = current_app.tasks.pop(GENERATION_JOB_RUN_TASK, None)
    yield
    current_app.tasks.pop(GENERATION_JOB_RUN_TASK, None)
    if original is not None:
        current_app.tasks[GENERATION_JOB_RUN_TASK] = original


def test_without_an_engine_a_job_stays_queued(engine_slot, job_queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        generation.generation_job_enqueue(job=job_queued)
    job_queued.refresh_from_db()
    assert job_queued.status == "queued"


def test_an_installed_engine_receives_the_job(engine_slot, job_queued, django_capture_on_commit_callbacks):
    received = []

    @current_app.task(name=GENERATION_JOB_RUN_TASK)
    def engine(job_id):
        received.append(job_id)

    with django_capture_on_commit_callbacks(execute=True):
        generation.generation_job_enqueue(job=job_queued)
    assert received == [str(job_queued.id)]


def test_the_engine_moves_a_job_to_completion(creator, job_queued, django_capture_on_commit_callbacks):
    webhook_endpoint_create(user=creator, url="https://hooks.test/x", events=["dataset.generated"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        generation.generation_job_start(job_id=job_queued.id)
        generation.generation_job_progress(job_id=job_queued.id, progress=40)
        generation.generation_job_progress(job_id=job_queued.id, progress=30)  # never backwards
        content = orjson.dumps([{"a": 1}, {"a": 2}])
        output = generation.GeneratedDataset(content=content, rows=2, preview=[{"a": 1}], tokens=12, cost=0.01)
        generation.generation_job_complete(job_id=job_queued.id, output=output)
        generation.generation_job_complete(job_id=job_queued.id, output=output)  # applied once
    job_queued.refresh_from_db()
    dataset = Dataset.objects.get(pk=job_queued.dataset_id)
    assert job_queued.status == "completed" and job_queued.progress == 100
    assert job_queued.result["filecoinCID"] == storage.cid_for_bytes(content)
    assert dataset.status == "ready" and dataset.rows == 2 and dataset.full_cid == job_queued.result["filecoinCID"]
    assert dataset.preview_data == [{"a": 1}]
    assert DatasetFile.objects.filter(dataset=dataset).count() == 2  # full file and preview
    assert WebhookDelivery.objects.filter(event="dataset.generated").count() == 1
    # start, one progress, completion events + one webhook enqueue
    assert len(callbacks) == 4


def test_the_verification_report_is_kept_in_the_result_and_shown(
    creator, creator_client, job_queued, django_capture_on_commit_callbacks
):
    # given an engine that checked every row of its file
    webhook_endpoint_create(user=creator, url="https://hooks.test/x", events=["dataset.generated"])
    report = {"checkedRows": 2, "violations": 0, "full": True, "violationsByField": {}, "problems": []}
    output = generation.GeneratedDataset(content=b'{"a": 1}\n{"a": 2}\n', rows=2, preview=[], verification=report)
    # when it completes the job
    generation.generation_job_start(job_id=job_queued.id)
    generation.generation_job_complete(job_id=job_queued.id, output=output)
    # then the report is in the result, the job's status answer and the dataset.generated payload
    job_queued.refresh_from_db()
    assert job_queued.result["verification"] == report
    r = creator_client.get(f"{API}/generation/jobs/{job_queued.id}")
    assert r.status_code == 200, r.json()
    assert r.json()["job"]["result"]["verification"] == report
    assert WebhookDelivery.objects.get(event="dataset.generated").payload["data"]["job"]["result"]["verification"] == (
        report
    )


def test_a_result_without_a_report_shows_it_as_null(creator_client, job_queued):
    generation.generation_job_complete(
        job_id=job_queued.id, output=generation.GeneratedDataset(content=b"[]", rows=0, preview=[])
    )
    r = creator_client.get(f"{API}/generation/jobs/{job_queued.id}")
    assert r.status_code == 200, r.json()
    assert r.json()["job"]["result"]["verification"] is None


def test_a_result_stored_before_reports_existed_is_still_shown(creator_client, job_queued):
    # given a job completed by an older release (no verification key in its result)
    result = {"generatedRows": 1, "filecoinCID": "c", "previewCID": "p", "generationTime": 0.1, "cost": 0.0}
    GenerationJob.objects.filter(pk=job_queued.pk).update(status="completed", result=result)
    r = creator_client.get(f"{API}/generation/jobs/{job_queued.id}")
    assert r.status_code == 200, r.json()
    assert r.json()["job"]["result"] == {**result, "verification": None}


def test_the_engine_can_fail_a_job(job_queued):
    generation.generation_job_start(job_id=job_queued.id)
    generation.generation_job_fail(job_id=job_queued.id, error="model unavailable")
    job_queued.refresh_from_db()
    assert job_queued.status == "failed" and job_queued.error == "model unavailable"
    assert Dataset.objects.get(pk=job_queued.dataset_id).status == "failed"


def test_the_training_engine_moves_a_model_to_ready(creator, training_queued):
    webhook_endpoint_create(user=creator, url="https://hooks.test/x", events=["model.trained"])
    generation.training_job_start(job_id=training_queued.id)
    generation.training_job_progress(job_id=training_queued.id, progress=50, metrics={"loss": 0.4})
    generation.training_job_complete(
        job_id=training_queued.id, content=b"weights", accuracy=0.91, metrics={"f1Score": 0.9}
    )
    model = TrainedModel.objects.get(pk=training_queued.model_id)
    assert (
        model.status == "ready" and model.accuracy == 0.91 and model.filecoin_cid == storage.cid_for_bytes(b"weights")
    )
    assert WebhookDelivery.objects.filter(event="model.trained").count() == 1


def test_the_training_engine_can_fail_a_job(training_queued):
    generation.training_job_fail(job_id=training_queued.id, error="out of memory")
    assert TrainedModel.objects.get(pk=training_queued.model_id).status == "failed"
