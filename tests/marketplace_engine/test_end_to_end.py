"""End to end on the full stack: POST /datasets -> a real Celery worker -> a downloaded Parquet file.

The dataset is created through the API in this process (committed, so the job is enqueued on the
broker, routed to this test's worker queue); a real worker runs the engine task against the test
database; a real uvicorn serves the WebSocket on which the owner watches ``generation.progress``
events arrive, and the job status and the download over HTTP; every row of the downloaded file is
verified against the schema.
"""

from __future__ import annotations

import io
import json

import httpx
import pyarrow.parquet as pq
import pytest
from celery import current_app

from core import storage
from marketplace.engine.checks import invalid_values
from marketplace.engine.spec import FieldSpec
from marketplace.models import GenerationJob
from marketplace.tasks import GENERATION_JOB_RUN_TASK
from tests.conftest import bearer_for
from tests.marketplace.conftest import client_for
from tests.marketplace.factories import WalletProfileFactory
from tests.marketplace_engine.conftest import field

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ROWS = 120_000
SCHEMA = [
    field("id", "uuid", required=True, unique=True),
    field("customer", "name", required=True),
    field("email", "email", required=True, unique=True),
    field("amount", "float", min=1, max=900, required=True),
    field("placed_at", "datetime", required=True),
    field("status", "enum", enum=["paid", "shipped", "returned"], required=True),
    field("sku", "string", pattern=r"^SKU-[A-Z]{3}-\d{4}$", required=True),
    field("notes", "text"),
]
EVENT_TIMEOUT_SECONDS = 120


@pytest.fixture
def engine_worker(celery_worker_factory, monkeypatch, engine_registered):
    """A worker publishing progress often, and the engine task routed to its queue."""
    worker = celery_worker_factory(extra_env={"MARKETPLACE_ENGINE_PROGRESS_INTERVAL_SECONDS": "0.05"})
    monkeypatch.setitem(current_app.conf, "task_routes", {GENERATION_JOB_RUN_TASK: {"queue": worker.queue}})
    return worker


def test_a_dataset_is_generated_by_the_worker_watched_live_and_downloaded(
    engine_worker,
    asgi_server,
    open_user_socket,
):
    # Given a signed-in creator watching their events on a real WebSocket
    creator = WalletProfileFactory().user
    socket = open_user_socket(creator, path="/marketplace/ws", product="marketplace")
    headers = {"Authorization": bearer_for(creator, "marketplace")["HTTP_AUTHORIZATION"]}

    # When they create a dataset
    body = {
        "name": "Orders",
        "description": "Synthetic orders",
        "category": "ecommerce",
        "tags": ["orders"],
        "schema": SCHEMA,
        "visibility": "public",
        "license": "CC-BY-4.0",
        "price": 0,
        "pricePerRow": 0,
        "datasetType": "custom",
        "config": {"rows": ROWS, "format": "parquet", "quality": "high", "verification": True},
    }
    # (posted in this process, so the job is routed to this test's worker queue on commit)
    created = client_for(creator).post("/marketplace/v1/datasets", body, format="json")
    assert created.status_code == 201, created.json()
    job_id = created.json()["generationJob"]["id"]
    dataset_id = created.json()["dataset"]["id"]

    # Then progress events arrive on the socket until the job completes
    progress = []
    while not progress or progress[-1]["status"] not in ("completed", "failed"):
        message = json.loads(socket.recv(timeout=EVENT_TIMEOUT_SECONDS))
        if message["event"] == "generation.progress" and message["data"]["jobId"] == job_id:
            progress.append(message["data"])
    assert progress[-1]["status"] == "completed", progress[-1]
    assert progress[0]["status"] == "running"
    assert any(0 < event["progress"] < 100 for event in progress), progress
    assert [event["progress"] for event in progress] == sorted(event["progress"] for event in progress)

    # And the job and dataset say so
    job = httpx.get(f"{asgi_server.http_url}/marketplace/v1/generation/jobs/{job_id}", headers=headers).json()["job"]
    assert job["status"] == "completed" and job["result"]["generatedRows"] == ROWS
    assert GenerationJob.objects.get(pk=job_id).result["verification"]["violations"] == 0

    # And the downloaded file is the stored one, and every row verifies
    grant = httpx.get(
        f"{asgi_server.http_url}/marketplace/v1/datasets/{dataset_id}/download", headers=headers, timeout=30
    )
    assert grant.status_code == 200, grant.json()
    url = grant.json()["downloadUrl"]
    download = httpx.get(url if url.startswith("http") else f"{asgi_server.http_url}{url}", timeout=60)
    assert download.status_code == 200, download.text
    assert storage.cid_for_bytes(download.content) == job["result"]["filecoinCID"]
    table = pq.read_table(io.BytesIO(download.content))
    assert table.num_rows == ROWS
    for definition in SCHEMA:
        spec = FieldSpec.from_schema(definition)
        assert not invalid_values(spec, table.column(spec.name)).any(), spec.name
        if spec.unique:
            assert len(set(table.column(spec.name).to_pylist())) == ROWS
