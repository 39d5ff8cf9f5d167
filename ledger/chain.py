"""The hash chain: how a transaction is written canonically and hashed.

``hash = sha256_hex(previous_hash + canonical_json(transaction))`` where the canonical JSON has
sorted keys, no insignificant whitespace, UTF-8 text (not ``\\u`` escapes) and the timestamp as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. The fields hashed are every stored field of the
transaction: id, objectId, sequence, action, data, metadata (ip, userAgent), createdBy, createdAt.

On PostgreSQL an append is one statement (``APPEND_STATEMENT``) that locks the object's head, hashes
and links the transaction and moves the head, so the head stays locked only while that statement
runs. Python still writes the canonical JSON: "sequence" sorts last among the hashed keys, so the
JSON is ``canonical_prefix(txn) + str(sequence) + "}"``, and the database only adds the number it
learns under the lock and takes the SHA-256 of the same bytes. ``transaction_hash`` (every other
backend, and every verification) computes the same hash here.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ledger.models import GENESIS_HASH, LedgerTransaction

__all__ = [
    "APPEND_STATEMENT",
    "GENESIS_HASH",
    "apply_action",
    "canonical_json",
    "canonical_prefix",
    "stored_numbers",
    "timestamp",
    "transaction_hash",
]


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def stored_numbers(value: Any) -> Any:
    """``value`` with each number in the form PostgreSQL's jsonb gives it back, so the JSON hashed
    when a transaction is written is the JSON re-read when it is verified, on every backend.

    jsonb keeps numbers as ``numeric`` and writes them without an exponent: a float Python writes
    with one and that is integral (``1e+16``, ``1e+300``) comes back as that exact integer (the
    decimal Python wrote, expanded: 10**300, not the binary float's ``int()``), and ``-0.0`` as
    ``0.0``. Every other float comes back as the same float. Applied to new input only: stored rows
    are hashed as they were written (see docs/cerebro.md)."""
    if isinstance(value, float):
        if value == 0:
            return 0.0
        written = repr(value)
        if "e" in written and value.is_integer():
            return int(Decimal(written))
        return value
    if isinstance(value, dict):
        return {key: stored_numbers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [stored_numbers(item) for item in value]
    return value


def hashed_fields(txn: LedgerTransaction) -> dict[str, Any]:
    return {
        "id": str(txn.id),
        "objectId": str(txn.ledger_object_id),
        "sequence": txn.sequence,
        "action": txn.action,
        "data": txn.data,
        "metadata": {"ip": txn.ip, "userAgent": txn.user_agent},
        "createdBy": str(txn.created_by_id),
        "createdAt": timestamp(txn.created_at),
    }


def canonical_transaction(txn: LedgerTransaction) -> bytes:
    return canonical_json(hashed_fields(txn))


def transaction_hash(txn: LedgerTransaction) -> str:
    return hashlib.sha256(txn.previous_hash.encode() + canonical_transaction(txn)).hexdigest()


SEQUENCE_TAIL = b',"sequence":0}'


def canonical_prefix(txn: LedgerTransaction) -> bytes:
    """The canonical JSON of ``txn`` up to its sequence number (``...,"sequence":``), whatever
    ``txn.sequence`` holds: the full JSON is this, the number in decimal, then ``}``."""
    canonical = canonical_json({**hashed_fields(txn), "sequence": 0})
    if not canonical.endswith(SEQUENCE_TAIL):  # only if a hashed field were added that sorts after it
        raise RuntimeError("the canonical JSON of a transaction must end with its sequence")
    return canonical[: -len(b"0}")]


# One append on PostgreSQL, in one statement (so in one round trip, and atomic on its own):
# ``head`` locks the object's row, after any append in flight on it commits, and reads the head it
# leaves; ``link`` inserts the transaction there, hashed as ``transaction_hash`` does; the UPDATE
# moves the head and merges the data (``jsonb ||`` is ``apply_action``'s shallow merge). In READ
# COMMITTED the UPDATE re-reads the row it locked in ``head`` (the latest version, not the
# statement's snapshot), so the merge starts from the data the last append left. No row when the
# object is not the owner's. The unique (object, sequence) constraint still refuses a second link
# at one place, whatever happens. Every parameter is cast, so the statement reads the same with
# client-side binding (Django's default) and server-side binding.
APPEND_STATEMENT = """
WITH head AS (
    SELECT id, head_sequence + 1 AS sequence, head_hash AS previous_hash
    FROM ledger_ledgerobject
    WHERE id = %(object_id)s::uuid AND owner_id = %(owner_id)s::uuid
    FOR NO KEY UPDATE
), link AS (
    INSERT INTO ledger_ledgertransaction
        (id, ledger_object_id, sequence, action, data, ip, user_agent, created_by_id, created_at,
         previous_hash, hash)
    SELECT %(id)s::uuid, head.id, head.sequence, %(action)s::varchar, %(data)s::jsonb, %(ip)s::inet,
           %(user_agent)s::varchar, %(created_by)s::uuid, %(created_at)s::timestamptz, head.previous_hash,
           encode(sha256(convert_to(head.previous_hash, 'UTF8') || %(canonical_prefix)s::bytea
                         || convert_to(head.sequence::text || '}', 'UTF8')), 'hex')
    FROM head
    RETURNING ledger_object_id, sequence, previous_hash, hash
)
UPDATE ledger_ledgerobject AS object
SET data = object.data || %(data)s::jsonb,
    status = COALESCE(%(status)s::varchar, object.status),
    head_hash = link.hash,
    head_sequence = link.sequence,
    updated_at = %(created_at)s::timestamptz
FROM link
WHERE object.id = link.ledger_object_id
RETURNING link.sequence, link.previous_hash, link.hash
"""


def apply_action(state: dict, data: dict) -> dict:
    """The object's state after a transaction: its data's keys replace the state's (shallow merge)."""
    return {**state, **data}
