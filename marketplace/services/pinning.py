"""Pinning a dataset's files on an IPFS node (optional: only when ``IPFS_API_URL`` is set).

Once a dataset's files are stored (a generated dataset's full file and preview, an uploaded
dataset's file), ``dataset_files_pin_request`` marks them ``pending`` and hands each, after
commit, to ``marketplace.dataset_file_pin_task``. Each try (``dataset_file_pin``) sends the stored
bytes to the node (``services.ipfs_node``):

- a file of at most 1 MiB as one raw block (``block/put``): the node must answer our own CID
  (CIDv1, raw, sha2-256), otherwise the try fails for good with ``CID mismatch`` (the node holds
  other bytes than ours; trying again would not change that);
- a larger file with ``add`` (raw leaves, CIDv1): the node answers the root of its UnixFS DAG,
  which is recorded as the file's ``ipfs_cid`` beside our CID of the whole file.

A node that is down, times out or answers 5xx or 429 is tried again after 30 s, 60 s, 120 s, ... (capped,
``IPFS_PIN_*``) until ``IPFS_PIN_MAX_ATTEMPTS`` tries, then the file is ``failed``. None of this
touches the dataset or its generation job: a dataset is ready whether or not its files are pinned.
With a broker the task retries itself; without one (tasks run in-process) the first try runs in
the process that committed, right after the commit, and the upkeep makes each later try when due.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core import storage
from core.jobs import backoff_seconds, job_enqueue, job_send
from marketplace import conf
from marketplace.models import DatasetFile
from marketplace.services.ipfs_node import (
    RAW_BLOCK_MAX_BYTES,
    IpfsNodeRefusedError,
    IpfsNodeUnavailableError,
    KuboClient,
    same_cid,
)

logger = logging.getLogger(__name__)

PIN_TASK = "marketplace.dataset_file_pin_task"
# A file marked pending is sent at once; the upkeep sends it again only if no try started by then.
FIRST_TRY_GRACE_SECONDS = 600


def pinning_enabled() -> bool:
    return bool(conf.IPFS_API_URL)


def pin_backoff_seconds(attempt: int) -> int:
    """Seconds to wait after failed try number ``attempt`` (1, 2, ...): core.jobs' one formula."""
    return backoff_seconds(attempt, base=conf.IPFS_PIN_BACKOFF_BASE_SECONDS, cap=conf.IPFS_PIN_BACKOFF_MAX_SECONDS)


def dataset_files_pin_request(*, file_ids: list[int]) -> int:
    """Mark these files ``pending`` and send each to the pin task after commit (if a node is configured).

    Pinned and pending files are left alone; failed ones start over with a fresh count of tries (the admin's
    "pin again"). Returns how many files were marked. Does nothing without ``IPFS_API_URL``.
    """
    if not pinning_enabled() or not file_ids:
        return 0
    now = timezone.now()
    to_pin = list(
        DatasetFile.objects.filter(pk__in=file_ids)
        .exclude(pin_status__in=[DatasetFile.PinStatus.PINNED, DatasetFile.PinStatus.PENDING])
        .values_list("pk", flat=True)
    )
    DatasetFile.objects.filter(pk__in=to_pin).update(
        pin_status=DatasetFile.PinStatus.PENDING,
        pin_attempts=0,
        pin_error="",
        pin_next_attempt_at=now + timedelta(seconds=FIRST_TRY_GRACE_SECONDS),
    )
    for file_id in to_pin:
        # Whatever happens while sending (or, in-process, while pinning) is logged and never
        # reaches the code that stored the dataset; an unsent file stays pending for the upkeep.
        job_enqueue(PIN_TASK, args=[file_id])
    return len(to_pin)


@dataclass(frozen=True)
class PinOutcome:
    status: str
    retry_in: int | None  # seconds until the next try, None when there is none


def _claim(file_id) -> DatasetFile | None:
    """Count a try of a pending file; until it ends, the upkeep leaves the file alone."""
    with transaction.atomic():
        file = DatasetFile.objects.select_for_update().filter(pk=file_id).first()
        if file is None or file.pin_status != DatasetFile.PinStatus.PENDING:
            return file
        file.pin_attempts += 1
        # A try that never reports back (a worker killed mid-upload) is due again after this.
        lease = conf.IPFS_PIN_TIME_LIMIT_SECONDS + pin_backoff_seconds(file.pin_attempts)
        file.pin_next_attempt_at = timezone.now() + timedelta(seconds=lease)
        file.save(update_fields=["pin_attempts", "pin_next_attempt_at"])
        return file


class CidMismatchError(Exception):
    """The node computed another CID for the bytes it received than the one we stored them under."""


def _pin(file: DatasetFile) -> str:
    """Send the stored file to the node; the CID the node pinned it under."""
    node = KuboClient()
    if file.size_bytes <= RAW_BLOCK_MAX_BYTES:
        returned = node.block_put(storage.read_bytes(file.cid))
        if not same_cid(returned, file.cid):
            raise CidMismatchError(f"CID mismatch: the node stored {returned}, expected {file.cid}")
        return file.cid
    with storage.open_cid(file.cid) as handle:
        return node.add(handle, name=file.cid)


def dataset_file_pin(*, file_id, retried_by_worker: bool = False) -> PinOutcome:
    """Make one try at pinning a pending file and record how it went.

    ``retried_by_worker``: the caller (a Celery worker) will itself try again in ``retry_in``
    seconds, so the upkeep waits a while longer before stepping in. Safe to call again: a file
    that is not pending (pinned, failed, never requested) is left alone.
    """
    file = _claim(file_id)
    if file is None:
        return PinOutcome(status="missing", retry_in=None)
    if file.pin_status != DatasetFile.PinStatus.PENDING:
        return PinOutcome(status=file.pin_status, retry_in=None)
    files = DatasetFile.objects.filter(pk=file.pk, pin_status=DatasetFile.PinStatus.PENDING)
    if not pinning_enabled():
        files.update(
            pin_status=DatasetFile.PinStatus.NONE, pin_error="IPFS_API_URL is not set", pin_next_attempt_at=None
        )
        return PinOutcome(status=DatasetFile.PinStatus.NONE, retry_in=None)
    try:
        ipfs_cid = _pin(file)
    except IpfsNodeUnavailableError as exc:
        error, permanent = f"node unavailable: {exc}", False
    except (IpfsNodeRefusedError, CidMismatchError) as exc:
        error, permanent = str(exc), True
    except FileNotFoundError:
        error, permanent = "the stored file is missing", True
    else:
        files.update(
            pin_status=DatasetFile.PinStatus.PINNED,
            ipfs_cid=ipfs_cid,
            pin_error="",
            pin_next_attempt_at=None,
            pinned_at=timezone.now(),
        )
        return PinOutcome(status=DatasetFile.PinStatus.PINNED, retry_in=None)
    if permanent or file.pin_attempts >= conf.IPFS_PIN_MAX_ATTEMPTS:
        files.update(pin_status=DatasetFile.PinStatus.FAILED, pin_error=error[:255], pin_next_attempt_at=None)
        logger.warning(
            "pinning gave up", extra={"file": file.pk, "cid": file.cid, "attempts": file.pin_attempts, "error": error}
        )
        return PinOutcome(status=DatasetFile.PinStatus.FAILED, retry_in=None)
    retry_in = pin_backoff_seconds(file.pin_attempts)
    upkeep_in = retry_in + (FIRST_TRY_GRACE_SECONDS if retried_by_worker else 0)
    files.update(pin_error=error[:255], pin_next_attempt_at=timezone.now() + timedelta(seconds=upkeep_in))
    return PinOutcome(status=DatasetFile.PinStatus.PENDING, retry_in=retry_in)


def dataset_file_pins_overdue_sweep() -> int:
    """Send the next try of every pending file whose time has come (for the upkeep)."""
    if not pinning_enabled():
        return 0
    due = DatasetFile.objects.filter(pin_status=DatasetFile.PinStatus.PENDING, pin_next_attempt_at__lte=timezone.now())
    file_ids = list(due.values_list("pk", flat=True)[:500])
    for file_id in file_ids:
        job_send(PIN_TASK, args=[file_id])
    return len(file_ids)
