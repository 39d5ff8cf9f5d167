"""Credit accounts and their ledger.

The balance is changed only here, by a single conditional ``UPDATE`` (``... WHERE credits >= n``
for a debit), and every change writes a ledger line with the balance it produced, in the same
transaction. The ``UPDATE`` holds the account row's lock until commit, so concurrent debits are
serialised by the database: the balance can never go below zero, whatever the number of
processes, and the table's check constraint backs that up. A ledger line's optional ``key`` is
unique, so a movement retried by a job happens once.
"""

from __future__ import annotations

import math
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from coder import conf, events
from coder.errors import INSUFFICIENT_CREDITS
from coder.models import AIModel, CoderAccount, CreditTransaction, Task


def account_ensure(*, user: User) -> CoderAccount:
    """The user's credit account; a new one starts with ``CODER_SIGNUP_CREDITS`` welcome credits."""
    account = CoderAccount.objects.filter(user=user).first()
    if account is not None:
        return account
    with transaction.atomic():
        try:
            with transaction.atomic():
                account = CoderAccount.objects.create(user=user, subscription_tier=conf.DEFAULT_SUBSCRIPTION_TIER)
        except IntegrityError:  # a concurrent first request created it
            return CoderAccount.objects.get(user=user)
        if conf.SIGNUP_CREDITS > 0:
            credits_add(
                user_id=user.pk,
                amount=conf.SIGNUP_CREDITS,
                description="Welcome credits",
                key=f"signup:{user.pk}",
            )
    account.refresh_from_db()
    return account


def credits_for_tokens(*, ai_model: AIModel, tokens: int) -> int:
    """Credits that ``tokens`` of ``ai_model`` cost: dollars / ``CODER_USD_PER_CREDIT``, rounded up."""
    if tokens <= 0:
        return 0
    dollars = Decimal(tokens) * Decimal(str(ai_model.cost_per_token))
    return max(1, math.ceil(dollars / Decimal(str(conf.USD_PER_CREDIT))))


@transaction.atomic
def credits_debit(
    *, user_id, amount: int, description: str, task: Task | None = None, key: str | None = None
) -> CreditTransaction | None:
    """Take ``amount`` credits, or raise ``INSUFFICIENT_CREDITS`` (402) and change nothing.

    None when ``key`` was already used (the debit happened before).
    """
    if amount <= 0:
        raise ValueError("a debit takes a positive amount")
    if key and CreditTransaction.objects.filter(key=key).exists():
        return None
    taken = CoderAccount.objects.filter(user_id=user_id, credits__gte=amount).update(
        credits=F("credits") - amount, updated_at=timezone.now()
    )
    if not taken:
        available = CoderAccount.objects.filter(user_id=user_id).values_list("credits", flat=True).first() or 0
        raise INSUFFICIENT_CREDITS(
            f"This needs {amount} credits; {available} are available",
            details={"required": amount, "available": available},
        )
    return _record(user_id, CreditTransaction.Type.DEBIT, -amount, description, task, key)


@transaction.atomic
def credits_add(
    *,
    user_id,
    amount: int,
    description: str,
    type: str = CreditTransaction.Type.CREDIT,
    task: Task | None = None,
    key: str | None = None,
) -> CreditTransaction | None:
    """Give ``amount`` credits (a grant or a refund). None when ``key`` was already used."""
    if amount <= 0:
        raise ValueError("a credit takes a positive amount")
    if key and CreditTransaction.objects.filter(key=key).exists():
        return None
    CoderAccount.objects.filter(user_id=user_id).update(credits=F("credits") + amount, updated_at=timezone.now())
    return _record(user_id, type, amount, description, task, key)


def credits_record_usage(*, user_id, amount: int) -> None:
    """Count ``amount`` credits as used (``totalCreditsUsed``); the balance already moved."""
    if amount > 0:
        CoderAccount.objects.filter(user_id=user_id).update(total_credits_used=F("total_credits_used") + amount)


def _record(user_id, type_: str, amount: int, description: str, task: Task | None, key: str | None):
    # Our UPDATE holds the row lock until commit, so this read is the balance our change produced.
    balance = CoderAccount.objects.filter(user_id=user_id).values_list("credits", flat=True).get()
    line = CreditTransaction.objects.create(
        user_id=user_id,
        type=type_,
        amount=amount,
        balance_after=balance,
        description=description[:255],
        task=task,
        key=key,
    )
    events.credits_updated(user_id=user_id, credits=balance, change=amount)
    return line
