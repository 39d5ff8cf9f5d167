"""Every write to the ledger: create objects, append transactions, replay idempotent requests.

Appends to one object are serialised by a row lock on the object (its chain head), so two
concurrent appends can never both extend the same head; the unique (object, sequence) constraint
backs that up at the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger import chain
from ledger.errors import IDEMPOTENCY_KEY_REUSED, OBJECT_NOT_FOUND
from ledger.models import IdempotencyRecord, LedgerObject, LedgerTransaction

CREATE_ACTION = "create"


@dataclass(frozen=True)
class RequestOrigin:
    """Where a write came from, as the server saw it (never as the client claims)."""

    ip: str | None
    user_agent: str


def status_of(data: dict) -> str:
    value = data.get("status")
    return value[:100] if isinstance(value, str) else ""


def _append(*, ledger_object: LedgerObject, user, action: str, data: dict, origin: RequestOrigin) -> LedgerTransaction:
    """Extend the chain of a locked object by one transaction and update its state."""
    now = timezone.now()
    txn = LedgerTransaction(
        ledger_object=ledger_object,
        sequence=ledger_object.head_sequence + 1,
        action=action,
        data=data,
        ip=origin.ip,
        user_agent=origin.user_agent[:512],
        created_by=user,
        created_at=now,
        previous_hash=ledger_object.head_hash,
    )
    txn.hash = chain.transaction_hash(txn)
    txn.save()
    ledger_object.data = chain.apply_action(ledger_object.data, data)
    ledger_object.status = status_of(ledger_object.data)
    ledger_object.head_hash = txn.hash
    ledger_object.head_sequence = txn.sequence
    ledger_object.updated_at = now
    ledger_object.save(update_fields=["data", "status", "head_hash", "head_sequence", "updated_at"])
    return txn


@transaction.atomic
def ledger_object_create(*, user, type_name: str, data: dict, origin: RequestOrigin) -> LedgerObject:
    """Create an object whose chain starts with a ``create`` transaction carrying its data."""
    now = timezone.now()
    ledger_object = LedgerObject.objects.create(
        owner=user, type_name=type_name, data={}, created_at=now, updated_at=now
    )
    _append(ledger_object=ledger_object, user=user, action=CREATE_ACTION, data=data, origin=origin)
    return ledger_object


@transaction.atomic
def ledger_transaction_append(*, user, object_id, action: str, data: dict, origin: RequestOrigin) -> LedgerTransaction:
    """Append ``action`` to the chain of the user's object; ``data`` updates the object's state.

    404 when the object does not exist or belongs to someone else. The object row stays locked
    until the surrounding transaction commits.
    """
    ledger_object = LedgerObject.objects.select_for_update().filter(pk=object_id, owner=user).first()
    if ledger_object is None:
        raise OBJECT_NOT_FOUND(details={"objectId": str(object_id)})
    return _append(ledger_object=ledger_object, user=user, action=action, data=data, origin=origin)


def request_fingerprint(endpoint: str, payload: Any) -> str:
    return hashlib.sha256(endpoint.encode() + b"\x00" + chain.canonical_json(payload)).hexdigest()


@dataclass(frozen=True)
class IdempotentResult:
    body: dict
    replayed: bool


def idempotent_call(
    *, user, key: str | None, endpoint: str, payload: Any, produce: Callable[[], dict]
) -> IdempotentResult:
    """Run ``produce`` once per (user, Idempotency-Key).

    The same key with the same endpoint and body returns the first answer without running
    ``produce`` again (so a replay never appends to a chain twice); the same key with another
    body is a 409. The key is claimed by inserting its row first, inside the same transaction as
    the work: a concurrent request with the same key waits on that row on PostgreSQL and then
    sees the committed answer; if the work fails, the claim rolls back with it.
    """
    if not key:
        return IdempotentResult(body=produce(), replayed=False)
    fingerprint = request_fingerprint(endpoint, payload)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    user=user, key=key, endpoint=endpoint, request_fingerprint=fingerprint
                )
        except IntegrityError:
            existing = IdempotencyRecord.objects.get(user=user, key=key)
            if existing.request_fingerprint != fingerprint:
                raise IDEMPOTENCY_KEY_REUSED(details={"idempotencyKey": key}) from None
            return IdempotentResult(body=existing.response_body, replayed=True)
        body = produce()
        record.response_body = body
        record.save(update_fields=["response_body"])
        return IdempotentResult(body=body, replayed=False)


@dataclass(frozen=True)
class BrokenLink:
    sequence: int
    transaction_id: str | None
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    object_id: str
    transaction_count: int
    head_hash: str
    broken: BrokenLink | None

    @property
    def valid(self) -> bool:
        return self.broken is None


def ledger_object_verify(*, ledger_object: LedgerObject) -> VerifyReport:
    """Walk the object's chain from the start and report the first link that does not hold.

    Reasons: ``sequence_gap`` (a transaction is missing or out of place),
    ``previous_hash_mismatch`` (a transaction does not point at the one before it),
    ``hash_mismatch`` (a transaction's stored fields no longer produce its hash),
    ``head_mismatch`` (the object's recorded head is not the chain's last link) and
    ``state_mismatch`` (the object's data is not what replaying its transactions gives).
    """
    previous_hash = chain.GENESIS_HASH
    expected_sequence = 1
    state: dict = {}
    count = 0

    def report(broken: BrokenLink | None) -> VerifyReport:
        return VerifyReport(
            object_id=str(ledger_object.pk), transaction_count=count, head_hash=ledger_object.head_hash, broken=broken
        )

    transactions = LedgerTransaction.objects.filter(ledger_object=ledger_object).order_by("sequence")
    for txn in transactions.iterator(chunk_size=1000):
        count += 1
        if txn.sequence != expected_sequence:
            return report(BrokenLink(expected_sequence, str(txn.pk), "sequence_gap"))
        if txn.previous_hash != previous_hash:
            return report(BrokenLink(txn.sequence, str(txn.pk), "previous_hash_mismatch"))
        if chain.transaction_hash(txn) != txn.hash:
            return report(BrokenLink(txn.sequence, str(txn.pk), "hash_mismatch"))
        state = chain.apply_action(state, txn.data)
        previous_hash = txn.hash
        expected_sequence += 1
    last_sequence = expected_sequence - 1
    if ledger_object.head_hash != previous_hash or ledger_object.head_sequence != last_sequence:
        return report(BrokenLink(last_sequence + 1, None, "head_mismatch"))
    if ledger_object.data != state:
        return report(BrokenLink(last_sequence, None, "state_mismatch"))
    return report(None)
