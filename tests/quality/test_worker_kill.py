"""A Celery worker's pool process SIGKILLed in the middle of a marketplace generation and training job.

The job is created over the API (committed, so it is sent on commit to this test's worker queue), a
real worker runs it against the test database, and once the job is running its pool process is
killed outright. ``task_acks_late`` + ``task_reject_on_worker_lost`` put the message back; the
worker's new pool process runs it again from scratch. What must hold: the job completes (or, after
``MARKETPLACE_ENGINE_MAX_DELIVERIES`` deaths, fails), and its effects are applied once: one stored
file per dataset, one model file, one ``ready`` transition.

The marketplace charges no credits for jobs. Credits across a killed run are the coder's: proven
by tests/coder/test_e2e.py::test_a_worker_killed_mid_run_reruns_the_task_and_charges_once (debit
once, refund of the unused reservation once, balance exact).
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import pytest
from celery import current_app

from marketplace.models import Dataset, DatasetFile, GenerationJob, JobStatus, TrainedModel, TrainingJob
from marketplace.tasks import GENERATION_JOB_RUN_TASK, TRAINING_JOB_RUN_TASK
from tests.integration.conftest import wait_for
from tests.marketplace.conftest import client_for
from tests.marketplace.factories import WalletProfileFactory

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = int(os.environ.get("QUALITY_KILL_ROWS", "60000"))
RUN_TIMEOUT_SECONDS = 240.0


def field(name: str, field_type: str, **constraints) -> dict:
    return {"name": name, "type": field_type, "description": "", "constraints": constraints}


SCHEMA = [
    field("id", "uuid", required=True, unique=True),
    field("income", "float", min=0, max=100, required=True),
    field("age", "integer", min=18, max=80, required=True),
    field("plan", "enum", enum=["basic", "plus", "pro"], required=True),
    field("email", "email", required=True, unique=True),
    field("approved", "boolean", required=True),
]


@pytest.fixture
def engine_worker(celery_worker_factory, monkeypatch):
    """A worker of this test's own, with both engine tasks routed to its queue."""
    worker = celery_worker_factory(extra_env={"MARKETPLACE_ENGINE_PROGRESS_INTERVAL_SECONDS": "0.05"})
    routes = {GENERATION_JOB_RUN_TASK: {"queue": worker.queue}, TRAINING_JOB_RUN_TASK: {"queue": worker.queue}}
    monkeypatch.setitem(current_app.conf, "task_routes", routes)
    return worker


def pool_pids(parent_pid: int) -> list[int]:
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent_pid:
            children.append(int(stat.parent.name))
    return children


def kill_pool_when_running(worker, job_model, job_id: str) -> None:
    """Wait until the job runs (and reported progress), then SIGKILL the worker's pool processes."""

    def running() -> bool:
        job = job_model.objects.filter(pk=job_id).first()
        return job is not None and job.status == JobStatus.RUNNING and job.progress > 0

    if not wait_for(running, timeout=RUN_TIMEOUT_SECONDS, interval=0.1):
        worker.process.fail(f"{job_model.__name__} {job_id} never ran")
    pids = pool_pids(worker.process.popen.pid)
    assert pids, "the worker has no pool process"
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    status = job_model.objects.get(pk=job_id).status
    assert status == JobStatus.RUNNING, f"the job finished before the kill ({status}): raise QUALITY_KILL_ROWS"


def wait_until_finished(worker, job_model, job_id: str):
    def finished() -> bool:
        return job_model.objects.filter(pk=job_id, status__in=(JobStatus.COMPLETED, JobStatus.FAILED)).exists()

    if not wait_for(finished, timeout=RUN_TIMEOUT_SECONDS, interval=0.5):
        worker.process.fail(f"{job_model.__name__} {job_id} did not finish after the kill")
    return job_model.objects.get(pk=job_id)


def received_count(worker, task_name: str, job_id: str) -> int:
    """How many times the worker received this job's task (each delivery logs one line)."""
    log = worker.process.log_path.read_text(errors="replace")
    return len(re.findall(rf"Task {re.escape(task_name)}\[[^\]]+\] received", log))


def generation_job_created(client, *, rows: int) -> tuple[str, str]:
    """POST a dataset of ``rows`` rows (Parquet, fully verified); its id and its generation job's."""
    created = client.post(
        "/marketplace/v1/datasets",
        {
            "name": "Killed mid-run",
            "description": "Generated across a worker crash",
            "category": "finance",
            "schema": SCHEMA,
            "visibility": "public",
            "price": 0,
            "pricePerRow": 0,
            "datasetType": "custom",
            "config": {"rows": rows, "format": "parquet", "quality": "balanced", "verification": True},
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    return created.json()["dataset"]["id"], created.json()["generationJob"]["id"]


def test_a_generation_and_a_training_job_survive_a_killed_worker_and_apply_once(engine_worker):
    creator = WalletProfileFactory().user
    client = client_for(creator)

    # Given a generation job running in the worker
    dataset_id, job_id = generation_job_created(client, rows=ROWS)

    # When its pool process is killed, the message comes back and the job runs again
    kill_pool_when_running(engine_worker, GenerationJob, job_id)
    job = wait_until_finished(engine_worker, GenerationJob, job_id)

    # Then it completed once: one stored file, the dataset ready with every row
    assert job.status == JobStatus.COMPLETED, job.error
    assert received_count(engine_worker, GENERATION_JOB_RUN_TASK, job_id) >= 2
    dataset = Dataset.objects.get(pk=dataset_id)
    assert dataset.status == Dataset.Status.READY and dataset.rows == ROWS
    assert DatasetFile.objects.filter(dataset_id=dataset_id, kind=DatasetFile.Kind.FULL).count() == 1
    assert job.result["generatedRows"] == ROWS

    # Given a training job on that dataset, running in the worker
    trained = client.post(
        "/marketplace/v1/models",
        {
            "name": "Trained across a crash",
            "datasetId": dataset_id,
            "baseModel": "sklearn/mlp-classifier",
            "trainingConfig": {
                "epochs": 30,
                "batchSize": 64,
                "learningRate": 0.01,
                "hyperparameters": {"target": "approved"},
            },
        },
        format="json",
    )
    assert trained.status_code == 201, trained.json()
    model_id, training_id = trained.json()["model"]["id"], trained.json()["trainingJob"]["id"]

    # When its pool process is killed too
    kill_pool_when_running(engine_worker, TrainingJob, training_id)
    training = wait_until_finished(engine_worker, TrainingJob, training_id)

    # Then it was re-run to completion and the model is stored once
    assert training.status == JobStatus.COMPLETED, training.error
    assert received_count(engine_worker, TRAINING_JOB_RUN_TASK, training_id) >= 2
    model = TrainedModel.objects.get(pk=model_id)
    assert model.status == TrainedModel.Status.READY and model.filecoin_cid and model.accuracy is not None
    assert TrainingJob.objects.filter(model_id=model_id).count() == 1
