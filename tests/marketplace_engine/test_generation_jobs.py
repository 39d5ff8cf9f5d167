"""Generation jobs end to end in one process: POST /datasets -> the engine task -> a ready dataset."""

from __future__ import annotations

import io
import itertools
import time

import pyarrow.parquet as pq
import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.db import OperationalError

from core import storage
from marketplace import conf as marketplace_conf
from marketplace import engine
from marketplace import events as marketplace_events
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from marketplace.engine.verification import VerificationReport
from marketplace.models import Dataset, DatasetFile, GenerationJob, WebhookDelivery
from marketplace.services import generation as seam
from marketplace.services import generation_runner
from marketplace.services.webhooks import webhook_endpoint_create
from marketplace.tasks import generation_job_run_task
from tests.marketplace.conftest import API, client_for
from tests.marketplace.factories import GenerationJobFactory
from tests.marketplace.fake_kubo import FakeKubo
from tests.marketplace_engine.conftest import field

pytestmark = pytest.mark.django_db

SCHEMA = [
    field("id", "uuid", required=True, unique=True),
    field("customer", "name", required=True),
    field("email", "email", required=True, unique=True),
    field("amount", "float", min=1, max=500, required=True),
    field("status", "enum", enum=["paid", "refunded"], required=True),
    field("code", "string", pattern=r"^TX-\d{6}$", required=True, unique=True),
]


@pytest.fixture
def events(monkeypatch):
    """Every real-time event the seam publishes, as (user id, event, data)."""
    recorded: list[tuple] = []
    monkeypatch.setattr(
        marketplace_events, "publish", lambda user_id, event, data: recorded.append((user_id, event, data))
    )
    return recorded


def create_dataset(client, *, rows=5000, file_format="parquet", schema=SCHEMA, **config):
    body = {
        "name": "Payments",
        "description": "Synthetic payments",
        "category": "finance",
        "tags": ["payments"],
        "schema": schema,
        "visibility": "public",
        "license": "CC-BY-4.0",
        "price": 0,
        "pricePerRow": 0,
        "datasetType": "custom",
        "config": {"rows": rows, "format": file_format, "quality": "balanced", "verification": True, **config},
    }
    return client.post(f"{API}/datasets", body, format="json")


@pytest.fixture
def job_queued(creator):
    config = {"schema": SCHEMA, "rows": 1200, "format": "csv", "quality": "fast", "verification": True}
    return GenerationJobFactory(dataset__creator=creator, dataset__schema=SCHEMA, config=config)


def test_a_new_dataset_is_generated_verified_and_stored_by_cid(
    creator, events, engine_registered, django_capture_on_commit_callbacks
):
    webhook_endpoint_create(user=creator, url="https://hooks.test/generated", events=["dataset.generated"])
    with django_capture_on_commit_callbacks(execute=True):
        r = create_dataset(client_for(creator))
    assert r.status_code == 201, r.json()
    job = GenerationJob.objects.get(pk=r.json()["generationJob"]["id"])
    dataset = Dataset.objects.get(pk=job.dataset_id)
    assert job.status == "completed" and job.progress == 100, job.error
    assert dataset.status == "ready" and dataset.rows == 5000 and dataset.tokens > 0
    content = storage.read_bytes(dataset.full_cid)
    assert storage.cid_for_bytes(content) == dataset.full_cid == job.result["filecoinCID"]
    assert DatasetFile.objects.get(dataset=dataset, kind="full").format == "parquet"
    assert job.result["generatedRows"] == 5000 and job.result["previewCID"] == dataset.preview_cid
    assert job.result["verification"]["violations"] == 0 and job.result["verification"]["checkedRows"] == 5000
    table = pq.read_table(io.BytesIO(content))
    for definition in SCHEMA:
        spec = FieldSpec.from_schema(definition)
        assert not invalid_values(spec, table.column(spec.name)).any(), spec.name
    assert dataset.preview_data == engine.records(table, len(dataset.preview_data))
    progress = [data for _, event, data in events if event == "generation.progress"]
    assert progress[0]["status"] == "running" and progress[-1] == {
        "jobId": str(job.pk),
        "datasetId": str(dataset.pk),
        "progress": 100,
        "status": "completed",
    }
    assert WebhookDelivery.objects.filter(event="dataset.generated").count() == 1


def test_the_verification_report_reaches_the_job_result_the_api_and_the_webhook(
    creator, engine_registered, django_capture_on_commit_callbacks
):
    # given an endpoint for dataset.generated
    webhook_endpoint_create(user=creator, url="https://hooks.test/generated", events=["dataset.generated"])
    client = client_for(creator)
    # when a dataset is generated with verification
    with django_capture_on_commit_callbacks(execute=True):
        r = create_dataset(client, rows=300, file_format="json")
    assert r.status_code == 201, r.json()
    job_id = r.json()["generationJob"]["id"]
    # then the report the engine made is in the job's result, as the API shows it and the webhook sends it
    expected = {"checkedRows": 300, "violations": 0, "full": True, "violationsByField": {}, "problems": []}
    assert GenerationJob.objects.get(pk=job_id).result["verification"] == expected
    shown = client.get(f"{API}/generation/jobs/{job_id}")
    assert shown.status_code == 200, shown.json()
    assert shown.json()["job"]["result"]["verification"] == expected
    delivery = WebhookDelivery.objects.get(event="dataset.generated")
    assert delivery.payload["data"]["job"]["result"]["verification"] == expected


def test_without_verification_the_report_says_only_the_file_was_re_read(creator, engine_registered):
    config = {"schema": SCHEMA, "rows": 200, "format": "parquet", "quality": "fast", "verification": False}
    job = GenerationJobFactory(dataset__creator=creator, dataset__schema=SCHEMA, config=config)
    assert generation_runner.generation_job_run(job_id=str(job.pk)) == "completed"
    job.refresh_from_db()
    assert job.result["verification"]["full"] is False and job.result["verification"]["checkedRows"] == 200


def test_with_an_ipfs_node_the_generated_files_are_pinned_after_the_job(
    creator, engine_registered, monkeypatch, django_capture_on_commit_callbacks
):
    # given a configured IPFS node (a local fake Kubo)
    with FakeKubo() as node:
        monkeypatch.setattr(marketplace_conf, "IPFS_API_URL", node.url)
        # when a dataset is generated by the engine
        with django_capture_on_commit_callbacks(execute=True):
            r = create_dataset(client_for(creator), rows=2000, file_format="csv")
    # then the job completed and its full file and preview were pinned under the job's CIDs
    assert r.status_code == 201, r.json()
    job = GenerationJob.objects.get(pk=r.json()["generationJob"]["id"])
    assert job.status == "completed", job.error
    pinned = dict(DatasetFile.objects.filter(dataset_id=job.dataset_id).values_list("kind", "ipfs_cid"))
    assert pinned == {"full": job.result["filecoinCID"], "preview": job.result["previewCID"]}  # each one raw block
    assert set(DatasetFile.objects.filter(dataset_id=job.dataset_id).values_list("pin_status", flat=True)) == {"pinned"}
    assert [request.path for request in node.requests] == ["/api/v0/block/put"] * 2


def test_a_schema_that_cannot_be_generated_fails_the_job_with_the_reason(
    creator, engine_registered, django_capture_on_commit_callbacks
):
    schema = [field("flag", "boolean", unique=True)]
    with django_capture_on_commit_callbacks(execute=True):
        r = create_dataset(client_for(creator), rows=10, schema=schema)
    job = GenerationJob.objects.get(pk=r.json()["generationJob"]["id"])
    assert job.status == "failed" and "must be unique" in job.error and "2 distinct values" in job.error
    assert Dataset.objects.get(pk=job.dataset_id).status == "failed"


def test_a_file_failing_verification_is_never_marked_ready(job_queued, monkeypatch):
    failed = VerificationReport(rows=1200)
    failed.record("3 value(s) of 'amount' break its constraints", 3, "amount")
    monkeypatch.setattr(engine, "verify_file", lambda *args, **kwargs: failed)
    assert generation_runner.generation_job_run(job_id=str(job_queued.pk)) == "failed"
    job_queued.refresh_from_db()
    assert "3 violation(s)" in job_queued.error
    assert Dataset.objects.get(pk=job_queued.dataset_id).status == "failed"
    assert not DatasetFile.objects.filter(dataset_id=job_queued.dataset_id).exists()


def test_a_rerun_after_a_crash_completes_with_the_same_file(job_queued):
    # A worker died after starting: the job is "running" and its task is delivered again.
    seam.generation_job_start(job_id=job_queued.pk)
    assert generation_runner.generation_job_run(job_id=str(job_queued.pk)) == "completed"
    job_queued.refresh_from_db()
    request = engine.GenerationRequest.from_config(job_queued.config, default_seed=engine.seed_for(str(job_queued.pk)))
    fresh = engine.generate(request)
    assert storage.cid_for_bytes(fresh.path.read_bytes()) == job_queued.result["filecoinCID"]
    fresh.discard()


def test_running_a_finished_job_again_changes_nothing(job_queued):
    generation_runner.generation_job_run(job_id=str(job_queued.pk))
    job_queued.refresh_from_db()
    finished = (job_queued.result, job_queued.completed_at)
    assert generation_runner.generation_job_run(job_id=str(job_queued.pk)) == "completed"
    job_queued.refresh_from_db()
    assert (job_queued.result, job_queued.completed_at) == finished


def test_a_job_whose_worker_keeps_dying_fails(job_queued):
    # Given a job whose message already started MAX_DELIVERIES runs that never finished
    GenerationJob.objects.filter(pk=job_queued.pk).update(
        status="running", run_id="message-1", attempts=generation_runner.conf.MAX_DELIVERIES
    )
    # When the broker delivers that message once more
    outcome = generation_runner.generation_job_run(job_id=str(job_queued.pk), run_id="message-1")
    # Then the job fails instead of looping forever
    assert outcome == "failed"
    job_queued.refresh_from_db()
    assert "interrupted 3 times" in job_queued.error


def test_a_retry_of_the_task_is_not_taken_for_a_crash(job_queued):
    # Given a job whose last run was the task's own retry (same message, one more start)
    GenerationJob.objects.filter(pk=job_queued.pk).update(
        status="running", run_id="message-1", attempts=generation_runner.conf.MAX_DELIVERIES
    )
    # When the retry runs, it counts as one, not as a crash
    assert generation_runner.generation_job_run(job_id=str(job_queued.pk), run_id="message-1", retries=1) == "completed"


def test_a_message_the_job_no_longer_names_does_nothing(job_queued):
    # Given a job the watchdog gave to another message
    GenerationJob.objects.filter(pk=job_queued.pk).update(run_id="message-2")
    # When the old message arrives late
    outcome = generation_runner.generation_job_run(job_id=str(job_queued.pk), run_id="message-1")
    # Then it neither starts nor fails the job
    job_queued.refresh_from_db()
    assert (outcome, job_queued.status, job_queued.attempts) == ("queued", "queued", 0)
    assert generation_runner.generation_job_run(job_id=str(job_queued.pk), run_id="message-2") == "completed"


def test_a_redelivered_message_takes_its_running_job_over_from_zero_progress(job_queued):
    # Given a job its message was running (progress 60) when the worker died
    GenerationJob.objects.filter(pk=job_queued.pk).update(status="running", run_id="message-1", attempts=1, progress=60)
    seen = []
    original = seam.generation_job_progress

    def recording(**kwargs):
        job = original(**kwargs)
        seen.append(job.progress)
        return job

    # When the broker delivers the same message again
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(seam, "generation_job_progress", recording)
        assert generation_runner.generation_job_run(job_id=str(job_queued.pk), run_id="message-1") == "completed"
    # Then it ran again from 0 %, the second run counted
    job_queued.refresh_from_db()
    assert job_queued.attempts == 2 and seen and seen[0] < 60


def test_the_time_limit_fails_the_job_with_a_clear_message(job_queued, monkeypatch):
    def too_slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr("marketplace.tasks.generation_job_run", too_slow)
    generation_job_run_task.apply(args=[str(job_queued.pk)], task_id=job_queued.run_id)
    job_queued.refresh_from_db()
    assert job_queued.status == "failed" and "time limit" in job_queued.error


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (OperationalError("db gone"), "unavailable service (OperationalError)"),
        (KeyError("x"), "unexpectedly (KeyError)"),
    ],
)
def test_a_crash_fails_the_job_without_leaking_details(job_queued, monkeypatch, error, message):
    def crash(**kwargs):
        raise error

    monkeypatch.setattr("marketplace.tasks.generation_job_run", crash)
    generation_job_run_task.apply(args=[str(job_queued.pk)], task_id=job_queued.run_id)
    job_queued.refresh_from_db()
    assert job_queued.status == "failed" and message in job_queued.error and "Traceback" not in job_queued.error


def test_progress_is_reported_once_per_percent_and_interval():
    reported = []
    clock = iter([0.0, 0.1, 0.2, 1.0, 1.1, 2.0])
    throttle = generation_runner.ProgressThrottle(reported.append, interval=0.5, clock=lambda: next(clock))
    for done in (10, 20, 30, 40, 40, 100):
        throttle(done, 100)
    assert reported == [10, 40, 99]


def test_progress_covers_writing_verification_and_storage_without_long_pauses(job_queued, monkeypatch):
    # Given a job of ten chunks, every progress report recorded with the moment it was made
    GenerationJob.objects.filter(pk=job_queued.pk).update(config={**job_queued.config, "rows": 100_000})
    monkeypatch.setattr(generation_runner.conf, "PROGRESS_MIN_INTERVAL_SECONDS", 0.0)
    moments: list[tuple[float, str, int]] = []
    phase = {"now": "writing"}
    original_progress, original_verify, original_store = (
        seam.generation_job_progress,
        engine.verify_file,
        storage.save_local_file,
    )

    def progress(**kwargs):
        moments.append((time.monotonic(), phase["now"], kwargs["progress"]))
        return original_progress(**kwargs)

    def verify(*args, **kwargs):
        phase["now"] = "verification"
        return original_verify(*args, **kwargs)

    def store(*args, **kwargs):
        phase["now"] = "storage"
        return original_store(*args, **kwargs)

    monkeypatch.setattr(seam, "generation_job_progress", progress)
    monkeypatch.setattr(engine, "verify_file", verify)
    monkeypatch.setattr(storage, "save_local_file", store)
    started = time.monotonic()

    # When it runs
    assert generation_runner.generation_job_run(job_id=str(job_queued.pk)) == "completed"
    finished = time.monotonic()

    # Then every part of the run reported progress, rising, and ended at 99 % before completion
    phases = [name for _, name, _ in moments]
    assert {"writing", "verification", "storage"} <= set(phases), phases
    percents = [percent for _, _, percent in moments]
    assert percents == sorted(percents) and percents[-1] == 99
    # And it never stood still for long (documented: at least every 2 s; a chunk takes a fraction)
    times = [started, *(at for at, _, _ in moments), finished]
    assert max(later - earlier for earlier, later in itertools.pairwise(times)) < 2.0
