"""Optional IPFS pinning of a dataset's files, against a local fake Kubo node (a real HTTP server)."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnreachableError

from core import storage
from marketplace import conf
from marketplace.integrations.ipfs import RAW_BLOCK_MAX_BYTES, KuboClient
from marketplace.models import Dataset, DatasetFile, GenerationJob
from marketplace.services import generation, pinning
from marketplace.services.maintenance import marketplace_upkeep
from marketplace.tasks import dataset_file_pin_task
from tests.marketplace.conftest import API
from tests.marketplace.factories import GenerationJobFactory
from tests.marketplace.fake_kubo import FakeKubo, dag_pb_stand_in
from tests.marketplace.test_uploads import CSV, upload

pytestmark = pytest.mark.django_db

CONTENT = b'{"a": 1}\n{"a": 2}\n'


@pytest.fixture
def ipfs_node(monkeypatch):
    """A fake Kubo node the marketplace is configured to pin on."""
    with FakeKubo() as node:
        monkeypatch.setattr(conf, "IPFS_API_URL", node.url)
        yield node


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there any more: connections are refused


@pytest.fixture
def ipfs_node_down(monkeypatch):
    monkeypatch.setattr(conf, "IPFS_API_URL", closed_port_url())


@pytest.fixture
def job_queued(creator):
    return GenerationJobFactory(dataset__creator=creator)


def complete(job, content: bytes = CONTENT) -> GenerationJob:
    output = generation.GeneratedDataset(content=content, rows=2, preview=[{"a": 1}])
    generation.generation_job_start(job_id=job.id)
    generation.generation_job_complete(job_id=job.id, output=output)
    job.refresh_from_db()
    return job


def files_of(job) -> dict[str, DatasetFile]:
    return {file.kind: file for file in DatasetFile.objects.filter(dataset_id=job.dataset_id)}


def make_due() -> None:
    DatasetFile.objects.filter(pin_status="pending").update(pin_next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_without_a_node_nothing_is_pinned_or_sent(creator, job_queued, django_capture_on_commit_callbacks):
    assert conf.IPFS_API_URL == ""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        complete(job_queued)
    assert {file.pin_status for file in files_of(job_queued).values()} == {"none"}
    assert len(callbacks) == 2  # the start and completion events only


def test_a_generated_datasets_files_are_pinned_as_raw_blocks_under_our_cid(
    job_queued, ipfs_node, django_capture_on_commit_callbacks
):
    # given a configured node; when a generation completes and commits
    with django_capture_on_commit_callbacks(execute=True):
        job = complete(job_queued)
    # then the full file and the preview were each put as one raw block, pinned, under our own CID
    assert job.status == "completed"
    files = files_of(job)
    for file in files.values():
        assert file.pin_status == "pinned" and file.ipfs_cid == file.cid, file.pin_error
        assert file.pin_attempts == 1 and file.pinned_at is not None and file.pin_next_attempt_at is None
    assert files["full"].cid == storage.cid_for_bytes(CONTENT) == job.result["filecoinCID"]
    assert ipfs_node.paths() == ["/api/v0/block/put", "/api/v0/block/put"]
    for request in ipfs_node.requests:
        assert request.query == {"cid-codec": "raw", "mhtype": "sha2-256", "pin": "true"}
    assert {request.content for request in ipfs_node.requests} == {
        storage.read_bytes(file.cid) for file in files.values()
    }


def test_a_file_over_one_raw_block_is_added_and_the_nodes_dag_cid_recorded_beside_ours(
    job_queued, ipfs_node, django_capture_on_commit_callbacks
):
    # given a full file one byte over the 1 MiB a raw block may hold
    content = os.urandom(RAW_BLOCK_MAX_BYTES + 1)
    with django_capture_on_commit_callbacks(execute=True):
        job = complete(job_queued, content)
    full = files_of(job)["full"]
    # then it went through add (raw leaves, CIDv1, pinned), streamed whole to the node
    add = next(request for request in ipfs_node.requests if request.path == "/api/v0/add")
    assert add.query == {"cid-version": "1", "raw-leaves": "true", "pin": "true", "progress": "false"}
    assert add.content == content
    # and the node's UnixFS root is recorded; the dataset keeps the raw CID of the whole file
    assert full.pin_status == "pinned" and full.ipfs_cid == dag_pb_stand_in(content) != full.cid
    assert full.cid == storage.cid_for_bytes(content) == Dataset.objects.get(pk=job.dataset_id).full_cid
    assert files_of(job)["preview"].ipfs_cid == files_of(job)["preview"].cid  # the small one: a raw block


def test_a_cid_mismatch_fails_the_pin_for_good_and_leaves_the_dataset_ready(
    job_queued, ipfs_node, django_capture_on_commit_callbacks
):
    # given a node that stores other bytes than it was sent
    ipfs_node.mode = "corrupt"
    with django_capture_on_commit_callbacks(execute=True):
        job = complete(job_queued)
    full = files_of(job)["full"]
    # then the pin failed, saying why, and is not tried again
    assert full.pin_status == "failed" and full.pin_error.startswith("CID mismatch")
    assert full.cid in full.pin_error and full.pin_next_attempt_at is None and full.ipfs_cid == ""
    make_due()
    assert pinning.dataset_file_pins_overdue_sweep() == 0
    assert len(ipfs_node.requests) == 2  # one try per file
    assert job.status == "completed" and Dataset.objects.get(pk=job.dataset_id).status == "ready"


def test_a_node_that_is_down_never_blocks_the_job_and_is_retried_when_due(
    job_queued, ipfs_node_down, monkeypatch, django_capture_on_commit_callbacks
):
    # given a node that refuses connections: the job still completes
    with django_capture_on_commit_callbacks(execute=True):
        job = complete(job_queued)
    assert job.status == "completed" and Dataset.objects.get(pk=job.dataset_id).status == "ready"
    full = files_of(job)["full"]
    assert full.pin_status == "pending" and full.pin_attempts == 1
    assert full.pin_error == "node unavailable: ConnectError"
    assert full.pin_next_attempt_at > timezone.now() + timedelta(seconds=conf.IPFS_PIN_BACKOFF_BASE_SECONDS - 5)
    # when nothing is due yet, the upkeep leaves it alone
    assert pinning.dataset_file_pins_overdue_sweep() == 0
    # when the node is back and the try is due, the upkeep pins both files
    with FakeKubo() as node:
        monkeypatch.setattr(conf, "IPFS_API_URL", node.url)
        make_due()
        assert marketplace_upkeep()["filePinsRetried"] == 2
    files = files_of(job)
    assert {file.pin_status for file in files.values()} == {"pinned"}
    assert files["full"].pin_attempts == 2 and files["full"].pin_error == ""
    assert node.paths() == ["/api/v0/block/put", "/api/v0/block/put"]


def test_with_a_broker_the_task_asks_celery_to_retry_after_the_backoff(job_queued, ipfs_node_down, monkeypatch):
    # given a pending file (sending captured, not run)
    complete(job_queued)  # the commit never comes in this test: nothing is sent
    file = files_of(job_queued)["full"]
    asked = []

    class RetryRequestedError(Exception):
        pass

    def retry(countdown):
        asked.append(countdown)
        return RetryRequestedError()

    monkeypatch.setattr(dataset_file_pin_task, "retry", retry)
    # when a worker runs the task against the node that is down
    with pytest.raises(RetryRequestedError):
        dataset_file_pin_task.run(file.pk)  # called as a worker would, not eagerly
    # then Celery is asked to retry after the first backoff, and the upkeep waits longer than that
    assert asked == [conf.IPFS_PIN_BACKOFF_BASE_SECONDS]
    file.refresh_from_db()
    assert file.pin_next_attempt_at > timezone.now() + timedelta(seconds=conf.IPFS_PIN_BACKOFF_BASE_SECONDS + 60)


def test_tries_back_off_and_give_up_after_the_last(job_queued, ipfs_node, monkeypatch):
    # given a node answering 500 (Kubo's error body) to everything
    monkeypatch.setattr(conf, "IPFS_PIN_MAX_ATTEMPTS", 3)
    ipfs_node.mode = "error"
    complete(job_queued)  # the commit never comes in this test: nothing is sent
    file = files_of(job_queued)["full"]
    # when tried four times
    outcomes = [pinning.dataset_file_pin(file_id=file.pk) for _ in range(4)]
    # then the waits double, and after the third try the file is failed and left alone
    base = conf.IPFS_PIN_BACKOFF_BASE_SECONDS
    assert [o.retry_in for o in outcomes] == [base, base * 2, None, None]
    assert [o.status for o in outcomes] == ["pending", "pending", "failed", "failed"]
    file.refresh_from_db()
    assert file.pin_attempts == 3 and file.pin_error == "node unavailable: HTTP 500: blockstore is closed"
    assert len(ipfs_node.requests) == 3


def test_a_node_refusing_the_request_fails_the_pin_at_once(job_queued, ipfs_node, django_capture_on_commit_callbacks):
    ipfs_node.mode = "refuse"
    with django_capture_on_commit_callbacks(execute=True):
        complete(job_queued)
    full = files_of(job_queued)["full"]
    assert full.pin_status == "failed" and full.pin_attempts == 1
    assert full.pin_error == "HTTP 400: unrecognized option"


def test_an_unreachable_job_queue_leaves_the_pin_pending_for_the_upkeep(
    job_queued, ipfs_node, monkeypatch, django_capture_on_commit_callbacks
):
    # given a broker that cannot be reached when the pins are sent
    def unreachable(*args, **kwargs):
        raise BrokerUnreachableError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(dataset_file_pin_task, "apply_async", unreachable)
        with django_capture_on_commit_callbacks(execute=True):
            job = complete(job_queued)
    # then the job completed and the files wait, untried, for the upkeep
    assert job.status == "completed"
    assert {(f.pin_status, f.pin_attempts) for f in files_of(job).values()} == {("pending", 0)}
    make_due()
    assert pinning.dataset_file_pins_overdue_sweep() == 2
    assert {f.pin_status for f in files_of(job).values()} == {"pinned"}


def test_the_backoff_is_capped(monkeypatch):
    monkeypatch.setattr(conf, "IPFS_PIN_BACKOFF_MAX_SECONDS", 100)
    assert [pinning.pin_backoff_seconds(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_an_uploaded_datasets_file_is_pinned(creator_client, ipfs_node, django_capture_on_commit_callbacks):
    # given an uploaded CSV file
    file_id = upload(creator_client, CSV, "people.csv").json()["fileId"]
    # when it is published as an upload dataset
    with django_capture_on_commit_callbacks(execute=True):
        r = creator_client.post(
            f"{API}/datasets",
            {"name": "People", "category": "hr", "datasetType": "upload", "fileId": file_id, "price": 0},
            format="json",
        )
    # then its file is pinned under its CID
    assert r.status_code == 201, r.json()
    file = DatasetFile.objects.get(dataset_id=r.json()["dataset"]["id"])
    assert file.pin_status == "pinned" and file.ipfs_cid == file.cid == storage.cid_for_bytes(CSV)


def test_the_authorization_header_is_sent_when_configured(ipfs_node, monkeypatch):
    monkeypatch.setattr(conf, "IPFS_API_AUTHORIZATION", "Bearer node-token")
    assert KuboClient().block_put(b"x") == storage.cid_for_bytes(b"x")
    assert ipfs_node.requests[0].authorization == "Bearer node-token"


def test_staff_see_pin_status_and_can_pin_again(
    client, staff_user, job_queued, ipfs_node, django_capture_on_commit_callbacks
):
    # given files whose pins failed (the node was corrupting blocks)
    ipfs_node.mode = "corrupt"
    with django_capture_on_commit_callbacks(execute=True):
        complete(job_queued)
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    changelist = reverse("admin:marketplace_datasetfile_changelist")
    r = client.get(changelist, {"pin_status__exact": "failed"})
    assert r.status_code == 200, r.content
    assert r.context["cl"].result_count == 2
    assert b"Failed (gave up)" in r.content and b"CID mismatch" not in r.content  # the error is on the page of a file
    page = client.get(reverse("admin:marketplace_datasetfile_change", args=[files_of(job_queued)["full"].pk]))
    assert b"CID mismatch" in page.content
    # when the node is healthy again and staff pin the files again
    ipfs_node.mode = "honest"
    ids = [str(pk) for pk in DatasetFile.objects.values_list("pk", flat=True)]
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(changelist, {"action": "pin_again", "_selected_action": ids}, follow=True)
    # then both are pinned (in-process: the task ran after the request's commit)
    assert r.status_code == 200, r.content
    assert set(DatasetFile.objects.values_list("pin_status", flat=True)) == {"pinned"}
