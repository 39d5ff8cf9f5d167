"""Reads of the ledger: one user's objects, their transactions, and aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from ledger.errors import OBJECT_NOT_FOUND
from ledger.models import LedgerObject, LedgerTransaction

UNSPECIFIED_STATUS = "unspecified"


def ledger_object_get(*, user, object_id) -> LedgerObject:
    """The user's object; 404 for an unknown id and for another user's object alike."""
    ledger_object = LedgerObject.objects.filter(pk=object_id, owner=user).first()
    if ledger_object is None:
        raise OBJECT_NOT_FOUND(details={"objectId": str(object_id)})
    return ledger_object


@dataclass(frozen=True)
class ObjectFilter:
    type_name: str | None = None
    status: str | None = None
    data: dict | None = None  # top-level key -> value, all must be equal
    created_from: datetime | None = None
    created_to: datetime | None = None


def ledger_objects_query(*, user, object_filter: ObjectFilter) -> QuerySet[LedgerObject]:
    """The user's objects matching every condition of ``object_filter``, newest first."""
    objects = LedgerObject.objects.filter(owner=user)
    if object_filter.type_name:
        objects = objects.filter(type_name=object_filter.type_name)
    if object_filter.status:
        objects = objects.filter(status=object_filter.status)
    if object_filter.created_from:
        objects = objects.filter(created_at__gte=object_filter.created_from)
    if object_filter.created_to:
        objects = objects.filter(created_at__lte=object_filter.created_to)
    for key, value in (object_filter.data or {}).items():
        objects = objects.filter(**{f"data__{key}": value})
    return objects.order_by("-created_at", "-id")


def ledger_transactions_of(*, ledger_object: LedgerObject) -> QuerySet[LedgerTransaction]:
    return LedgerTransaction.objects.filter(ledger_object=ledger_object).order_by("sequence")


def ledger_aggregates(
    *, user, type_name: str | None, created_from: datetime | None, created_to: datetime | None
) -> dict:
    """Counts of the user's objects (created in the range) by type and by status, and of transactions.

    ``totalTransactions`` counts the transactions written in the range on the user's objects of
    that type. An object without a string ``status`` in its data counts as ``unspecified``.
    """
    objects = LedgerObject.objects.filter(owner=user)
    transactions = LedgerTransaction.objects.filter(ledger_object__owner=user)
    if type_name:
        objects = objects.filter(type_name=type_name)
        transactions = transactions.filter(ledger_object__type_name=type_name)
    if created_from:
        objects = objects.filter(created_at__gte=created_from)
        transactions = transactions.filter(created_at__gte=created_from)
    if created_to:
        objects = objects.filter(created_at__lte=created_to)
        transactions = transactions.filter(created_at__lte=created_to)
    by_type = {
        row["type_name"]: row["n"]
        for row in objects.order_by().values("type_name").annotate(n=Count("id")).order_by("type_name")
    }
    by_status: dict[str, int] = {}
    for row in objects.order_by().values("status").annotate(n=Count("id")).order_by("status"):
        status = row["status"] or UNSPECIFIED_STATUS
        by_status[status] = by_status.get(status, 0) + row["n"]
    return {
        "totalObjects": sum(by_type.values()),
        "totalTransactions": transactions.count(),
        "byType": by_type,
        "byStatus": by_status,
    }
