from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from accounts.models import User
from coder.models import CreditTransaction


def credit_transactions_for(
    *, user: User, type: str | None = None, start: datetime | None = None, end: datetime | None = None
) -> QuerySet[CreditTransaction]:
    """The user's ledger, newest first, optionally of one type and within [start, end]."""
    transactions = CreditTransaction.objects.filter(user=user)
    if type:
        transactions = transactions.filter(type=type)
    if start:
        transactions = transactions.filter(created_at__gte=start)
    if end:
        transactions = transactions.filter(created_at__lte=end)
    return transactions.order_by("-created_at", "-id")
