"""The hash chain: how a transaction is written canonically and hashed.

``hash = sha256_hex(previous_hash + canonical_json(transaction))`` where the canonical JSON has
sorted keys, no insignificant whitespace, UTF-8 text (not ``\\u`` escapes) and the timestamp as
``YYYY-MM-DDTHH:MM:SS.ffffffZ`` in UTC. The fields hashed are every stored field of the
transaction: id, objectId, sequence, action, data, metadata (ip, userAgent), createdBy, createdAt.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from ledger.models import GENESIS_HASH, LedgerTransaction

__all__ = ["GENESIS_HASH", "apply_action", "canonical_json", "timestamp", "transaction_hash"]


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def canonical_transaction(txn: LedgerTransaction) -> bytes:
    return canonical_json(
        {
            "id": str(txn.id),
            "objectId": str(txn.ledger_object_id),
            "sequence": txn.sequence,
            "action": txn.action,
            "data": txn.data,
            "metadata": {"ip": txn.ip, "userAgent": txn.user_agent},
            "createdBy": str(txn.created_by_id),
            "createdAt": timestamp(txn.created_at),
        }
    )


def transaction_hash(txn: LedgerTransaction) -> str:
    return hashlib.sha256(txn.previous_hash.encode() + canonical_transaction(txn)).hexdigest()


def apply_action(state: dict, data: dict) -> dict:
    """The object's state after a transaction: its data's keys replace the state's (shallow merge)."""
    return {**state, **data}
