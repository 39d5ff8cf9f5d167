"""Reads of the ledger: one user's objects, their transactions, and aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, QuerySet

from ledger.models import LedgerObject, LedgerTransaction

UNSPECIFIED_STATUS = "unspecified"


# Operators of a data filter, and the Django lookup each one is. Nothing else reaches a lookup:
# the operators are this list, and keys are plain field names (ledger/serializers.py), so a key can
# never be read as a lookup (``title__regex``) whatever a client sends.
FILTER_LOOKUPS = {
    "eq": "exact",
    "ne": "exact",  # negated
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "in": "in",
    "contains": "icontains",
}
FILTER_OPERATORS = (*FILTER_LOOKUPS, "exists")


@dataclass(frozen=True)
class DataCondition:
    key: str  # a plain field name of the object's data
    operator: str  # one of FILTER_OPERATORS
    operand: Any


def data_condition_q(condition: DataCondition) -> Q:
    if condition.operator == "exists":
        has_key = Q(data__has_key=condition.key)
        return has_key if condition.operand else ~has_key
    matches = Q(**{f"data__{condition.key}__{FILTER_LOOKUPS[condition.operator]}": condition.operand})
    return ~matches if condition.operator == "ne" else matches


@dataclass(frozen=True)
class ObjectFilter:
    type_name: str | None = None
    status: str | None = None
    data: list[DataCondition] = field(default_factory=list)  # all must hold
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
    for condition in object_filter.data:
        objects = objects.filter(data_condition_q(condition))
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
