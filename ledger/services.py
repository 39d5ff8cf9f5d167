"""Every write to the ledger: create objects, append transactions, replay idempotent requests.

Appends to one object are serialised by a row lock on that object (its chain head), so two
concurrent appends can never both extend the same head, and appends to other objects never wait
for it; the unique (object, sequence) constraint backs that up at the database. Each object has
a chain of its own: nothing is shared between objects but the tables.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.ipv6 import clean_ipv6_address

from core.db import prepared_cursor
from ledger import chain
from ledger.errors import IDEMPOTENCY_KEY_REUSED, OBJECT_NOT_FOUND
from ledger.models import IdempotencyRecord, LedgerObject, LedgerTransaction

CREATE_ACTION = "create"


@dataclass(frozen=True)
class RequestOrigin:
    """Where a write came from, as the server saw it (never as the client claims)."""

    ip: str | None
    user_agent: str


def stored_address(address: str | None) -> str | None:
    """``address`` as the database gives it back (it is hashed, so it must not change on the way):
    an IP address in its canonical text, or None for anything else (a missing or garbled one)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0].strip())
    except ValueError:
        return None
    return clean_ipv6_address(str(ip)) if ip.version == 6 else str(ip)


def status_of(data: dict) -> str:
    value = data.get("status")
    return value[:100] if isinstance(value, str) else ""


def _new_transaction(*, object_id, user, action: str, data: dict, origin: RequestOrigin) -> LedgerTransaction:
    """A transaction not yet linked: its place in the chain (sequence, hashes) comes under the lock."""
    return LedgerTransaction(
        ledger_object_id=LedgerObject._meta.pk.to_python(object_id),
        sequence=0,
        action=action,
        data=data,
        ip=stored_address(origin.ip),
        user_agent=origin.user_agent[:512],
        created_by=user,
        created_at=timezone.now(),
    )


def _link(*, ledger_object: LedgerObject, txn: LedgerTransaction) -> LedgerTransaction:
    """Extend the chain of a locked object by ``txn`` and update its state (through the ORM)."""
    txn.sequence = ledger_object.head_sequence + 1
    txn.previous_hash = ledger_object.head_hash
    txn.hash = chain.transaction_hash(txn)
    txn.save()
    ledger_object.data = chain.apply_action(ledger_object.data, txn.data)
    ledger_object.status = status_of(ledger_object.data)
    ledger_object.head_hash = txn.hash
    ledger_object.head_sequence = txn.sequence
    ledger_object.updated_at = txn.created_at
    ledger_object.save(update_fields=["data", "status", "head_hash", "head_sequence", "updated_at"])
    return txn


@transaction.atomic
def ledger_object_create(*, user, type_name: str, data: dict, origin: RequestOrigin) -> LedgerObject:
    """Create an object whose chain starts with a ``create`` transaction carrying its data."""
    now = timezone.now()
    ledger_object = LedgerObject.objects.create(
        owner=user, type_name=type_name, data={}, created_at=now, updated_at=now
    )
    txn = _new_transaction(object_id=ledger_object.pk, user=user, action=CREATE_ACTION, data=data, origin=origin)
    _link(ledger_object=ledger_object, txn=txn)
    return ledger_object


def ledger_transaction_append(*, user, object_id, action: str, data: dict, origin: RequestOrigin) -> LedgerTransaction:
    """Append ``action`` to the chain of the user's object; ``data`` updates the object's state.

    404 when the object does not exist or belongs to someone else. Atomic: the transaction, the
    object's new head and its new state are written together or not at all. The object's row is
    locked from the moment its head is read until the surrounding transaction commits. On
    PostgreSQL the append is one statement (``chain.APPEND_STATEMENT``): outside a transaction it
    commits by itself, so the lock is held only while that statement runs.
    """
    if connection.vendor == "postgresql":
        txn = _new_transaction(object_id=object_id, user=user, action=action, data=data, origin=origin)
        return _append_in_one_statement(txn)
    with transaction.atomic():
        ledger_object = LedgerObject.objects.select_for_update().filter(pk=object_id, owner=user).first()
        if ledger_object is None:
            raise OBJECT_NOT_FOUND(details={"objectId": str(object_id)})
        txn = _new_transaction(object_id=object_id, user=user, action=action, data=data, origin=origin)
        return _link(ledger_object=ledger_object, txn=txn)


def append_statement_parameters(txn: LedgerTransaction) -> dict[str, Any]:
    """The parameters of ``chain.APPEND_STATEMENT`` that link ``txn`` (its author owns the object)."""

    def prepared(name: str, value):
        return LedgerTransaction._meta.get_field(name).get_db_prep_save(value, connection)

    return {
        "object_id": prepared("ledger_object", txn.ledger_object_id),
        "owner_id": prepared("created_by", txn.created_by_id),
        "id": prepared("id", txn.id),
        "action": txn.action,
        "data": prepared("data", txn.data),
        "ip": prepared("ip", txn.ip),
        "user_agent": txn.user_agent,
        "created_by": prepared("created_by", txn.created_by_id),
        "created_at": prepared("created_at", txn.created_at),
        "canonical_prefix": chain.canonical_prefix(txn),
        # The object's status follows its data's; data without a status leaves it as it was.
        "status": status_of(txn.data) if "status" in txn.data else None,
    }


def _append_in_one_statement(txn: LedgerTransaction) -> LedgerTransaction:
    """``txn`` linked at the head of its object by ``chain.APPEND_STATEMENT`` (PostgreSQL)."""
    with prepared_cursor() as cursor:
        cursor.execute(chain.APPEND_STATEMENT, append_statement_parameters(txn))
        linked = cursor.fetchone()
    if linked is None:
        raise OBJECT_NOT_FOUND(details={"objectId": str(txn.ledger_object_id)})
    txn.sequence, txn.previous_hash, txn.hash = linked
    txn._state.adding = False
    txn._state.db = connection.alias
    return txn


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
