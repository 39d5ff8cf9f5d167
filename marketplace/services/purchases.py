"""Purchases: a payment checked with its provider becomes access to a dataset, exactly once.

Prices: a dataset priced in ``ETH`` is paid with an Ethereum transaction (``crypto``) of at least
``price`` ETH (``price * 10**18`` wei, rounded up) to the dataset's payee; one priced in ``USD`` is
paid with a Stripe PaymentIntent (``stripe``) of at least ``price * 100`` cents in ``usd``.

The payee is the creator's signed-in wallet address, else ``MARKETPLACE_PAYEE_ADDRESS``.
A transaction hash (or PaymentIntent id) is stored under a unique constraint, so it buys one
purchase ever; the provider is asked before any row is written, and no row lock is held while
waiting on it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core import errors
from core.jobs import backoff_seconds, job_enqueue, job_send
from marketplace import conf, events
from marketplace.errors import ALREADY_PURCHASED, TRANSACTION_ALREADY_USED
from marketplace.models import Currency, Dataset, Purchase, WalletProfile
from marketplace.serializers.outputs import PurchaseSerializer
from marketplace.services.payment_checks import (
    PaymentCheck,
    crypto_payment_check,
    eth_to_wei,
    stripe_payment_check,
    usd_to_cents,
)
from marketplace.services.webhooks import webhook_event_fire

logger = logging.getLogger(__name__)

PURCHASE_VERIFY_TASK = "marketplace.purchase_verify_task"


def dataset_payee(dataset: Dataset) -> str:
    """Where payments for the dataset go: the creator's wallet, else the configured payee."""
    address = WalletProfile.objects.filter(user_id=dataset.creator_id).values_list("wallet_address", flat=True).first()
    address = address or conf.PAYEE_ADDRESS
    if not address:
        raise errors.CONFLICT("This dataset has no payee to pay; contact its creator")
    return address


# A transaction hash is 32 bytes in hex. A PaymentIntent id is ``pi_`` and letters and digits (Stripe
# ids are at most 255 characters): nothing that could change the path Stripe is asked about.
ETH_TRANSACTION_HASH = re.compile(r"0x[0-9a-fA-F]{64}")
STRIPE_PAYMENT_INTENT_ID = re.compile(r"pi_[A-Za-z0-9]{1,252}")


def normalize_reference(payment_method: str, reference: str) -> str:
    """The payment's one spelling, stored under the unique constraint; 400 for anything malformed."""
    reference = reference.strip()
    if payment_method == Purchase.PaymentMethod.CRYPTO:
        if not ETH_TRANSACTION_HASH.fullmatch(reference):
            raise errors.VALIDATION(
                "transactionHash must be a 0x-prefixed 32-byte hex hash", details={"transactionHash": ["invalid"]}
            )
        return reference.lower()
    if not STRIPE_PAYMENT_INTENT_ID.fullmatch(reference):
        raise errors.VALIDATION(
            "For stripe, transactionHash is the PaymentIntent id (pi_ followed by letters and digits)",
            details={"transactionHash": ["invalid"]},
        )
    return reference


def _check_payment(purchase_like: dict) -> PaymentCheck:
    if purchase_like["payment_method"] == Purchase.PaymentMethod.CRYPTO:
        return crypto_payment_check(
            tx_hash=purchase_like["reference"],
            payee=purchase_like["payee"],
            payer=purchase_like["payer"],
            price_wei=eth_to_wei(purchase_like["amount"]),
        )
    return stripe_payment_check(
        payment_intent_id=purchase_like["reference"],
        price_cents=usd_to_cents(purchase_like["amount"]),
        dataset_id=str(purchase_like["dataset_id"]),
        user_id=str(purchase_like["buyer_id"]),
    )


def _buyer_wallet(buyer) -> str | None:
    return WalletProfile.objects.filter(user=buyer).values_list("wallet_address", flat=True).first()


@dataclass(frozen=True)
class PurchaseOutcome:
    purchase: Purchase
    full_access_cid: str | None


def _purchase_terms_check(*, buyer, dataset: Dataset, payment_method: str) -> None:
    """The buyer may pay for this dataset with this method: not its creator, not free, its currency's method."""
    if dataset.creator_id == buyer.pk:
        raise errors.CONFLICT("You created this dataset; there is nothing to buy")
    if dataset.price <= 0:
        raise errors.VALIDATION("This dataset is free: download it directly", details={"price": 0})
    expected_method = (
        Purchase.PaymentMethod.CRYPTO if dataset.currency == Currency.ETH else Purchase.PaymentMethod.STRIPE
    )
    if payment_method != expected_method:
        raise errors.VALIDATION(
            f"Datasets priced in {dataset.currency} are paid with {expected_method}",
            details={"paymentMethod": [f"must be {expected_method}"]},
        )


def _outcome(purchase: Purchase, dataset: Dataset) -> PurchaseOutcome:
    completed = purchase.status == Purchase.Status.COMPLETED
    return PurchaseOutcome(purchase=purchase, full_access_cid=dataset.full_cid if completed else None)


def _resubmitted_payment_recheck(*, buyer, dataset: Dataset, reference: str) -> PurchaseOutcome | None:
    """None for a payment never submitted; the same buyer's pending purchase of it, checked again now.

    A payment already used for anything else is TRANSACTION_ALREADY_USED.
    """
    existing = Purchase.objects.filter(transaction_hash=reference).first()
    if existing is None:
        return None
    if (
        existing.buyer_id == buyer.pk
        and existing.dataset_id == dataset.pk
        and existing.status == Purchase.Status.PENDING
    ):
        # The same buyer submitting the same payment again: check it now instead of refusing.
        purchase_recheck(purchase_id=existing.pk, schedule_next=False)
        existing.refresh_from_db()
        return _outcome(existing, dataset)
    raise TRANSACTION_ALREADY_USED()


def _purchase_record(
    *, buyer, dataset: Dataset, payment_method: str, reference: str, payee: str, check: PaymentCheck
) -> Purchase:
    """Store the purchase, completed when the payment is confirmed, else pending with its re-check scheduled."""
    try:
        with transaction.atomic():
            purchase = Purchase.objects.create(
                dataset=dataset,
                buyer=buyer,
                amount=dataset.price,
                currency=dataset.currency,
                payment_method=payment_method,
                transaction_hash=reference,
                payee_address=payee,
                block_number=check.block_number,
                status=Purchase.Status.PENDING,
                check_attempts=1,
                failure_reason=check.reason[:255],
            )
            if check.state == "confirmed":
                _complete(purchase)
            else:
                _schedule_recheck(purchase.pk, attempt=1)
    except IntegrityError:
        if Purchase.objects.filter(transaction_hash=reference).exists():
            raise TRANSACTION_ALREADY_USED()
        raise ALREADY_PURCHASED()
    return purchase


def purchase_create(*, buyer, dataset: Dataset, transaction_hash: str, payment_method: str) -> PurchaseOutcome:
    """Buy a dataset with a payment the provider confirms.

    Confirmed: the purchase is completed and its full CID returned. Not yet confirmed: the purchase
    is stored ``pending`` and re-checked by ``purchase_verify_task`` with backoff. Rejected: the
    provider's reason as a 402 and nothing stored. A reused transaction is TRANSACTION_ALREADY_USED.
    """
    _purchase_terms_check(buyer=buyer, dataset=dataset, payment_method=payment_method)
    reference = normalize_reference(payment_method, transaction_hash)
    if Purchase.objects.filter(buyer=buyer, dataset=dataset, status=Purchase.Status.COMPLETED).exists():
        raise ALREADY_PURCHASED()
    resubmitted = _resubmitted_payment_recheck(buyer=buyer, dataset=dataset, reference=reference)
    if resubmitted is not None:
        return resubmitted
    payee = dataset_payee(dataset) if payment_method == Purchase.PaymentMethod.CRYPTO else ""
    check = _check_payment(
        {
            "payment_method": payment_method,
            "reference": reference,
            "payee": payee,
            "payer": _buyer_wallet(buyer),
            "amount": dataset.price,
            "dataset_id": dataset.pk,
            "buyer_id": buyer.pk,
        }
    )
    if check.state == "rejected":
        raise check.error
    purchase = _purchase_record(
        buyer=buyer, dataset=dataset, payment_method=payment_method, reference=reference, payee=payee, check=check
    )
    return _outcome(purchase, dataset)


def recheck_delay_seconds(attempt: int) -> int:
    """Seconds until the next check after check number ``attempt`` (core.jobs' one formula)."""
    return backoff_seconds(attempt, base=conf.PURCHASE_RECHECK_BASE_SECONDS, cap=conf.PURCHASE_RECHECK_MAX_SECONDS)


def _schedule_recheck(purchase_id, *, attempt: int) -> None:
    job_enqueue(PURCHASE_VERIFY_TASK, args=[str(purchase_id)], countdown=recheck_delay_seconds(attempt))


def _complete(purchase: Purchase) -> None:
    """Effects of a completed purchase; called once, inside the transaction that completes it."""
    purchase.status, purchase.completed_at, purchase.failure_reason = Purchase.Status.COMPLETED, timezone.now(), ""
    purchase.save()
    Dataset.objects.filter(pk=purchase.dataset_id).update(purchases=F("purchases") + 1)
    creator_id = Dataset.objects.filter(pk=purchase.dataset_id).values_list("creator_id", flat=True).get()
    events.dataset_purchased(creator_id=creator_id, dataset_id=purchase.dataset_id, purchaser_id=purchase.buyer_id)
    data = PurchaseSerializer(purchase).data
    webhook_event_fire(user_id=creator_id, event="payment.completed", data={"purchase": data, "role": "seller"})
    webhook_event_fire(user_id=purchase.buyer_id, event="payment.completed", data={"purchase": data, "role": "buyer"})


@dataclass(frozen=True)
class RecheckOutcome:
    status: str
    retry_in: int | None


def purchase_recheck(*, purchase_id, schedule_next: bool = True) -> RecheckOutcome:
    """Ask the provider again about a pending purchase; complete it, fail it, or say when to ask again.

    Safe to run twice: only a purchase still pending is touched, under a row lock. The caller
    (the task) schedules the next check from ``retry_in``; ``schedule_next`` is False when the check
    is a one-off (the buyer re-submitting the same payment).
    """
    purchase = Purchase.objects.select_related("dataset").filter(pk=purchase_id).first()
    if purchase is None or purchase.status != Purchase.Status.PENDING:
        return RecheckOutcome(status=purchase.status if purchase else "missing", retry_in=None)
    try:
        check = _check_payment(
            {
                "payment_method": purchase.payment_method,
                "reference": purchase.transaction_hash,
                "payee": purchase.payee_address,
                "payer": _buyer_wallet(purchase.buyer),
                "amount": purchase.amount,
                "dataset_id": purchase.dataset_id,
                "buyer_id": purchase.buyer_id,
            }
        )
    except errors.DomainError as exc:  # provider unreachable: treat as "not yet"
        check = PaymentCheck.pending(exc.message)
    with transaction.atomic():
        purchase = Purchase.objects.select_for_update().get(pk=purchase_id)
        if purchase.status != Purchase.Status.PENDING:
            return RecheckOutcome(status=purchase.status, retry_in=None)
        purchase.check_attempts += 1
        purchase.block_number = check.block_number or purchase.block_number
        if check.state == "confirmed":
            try:
                with transaction.atomic():
                    _complete(purchase)
            except IntegrityError:  # the buyer completed another purchase of it meanwhile
                purchase.status, purchase.failure_reason = Purchase.Status.FAILED, "already purchased"
                purchase.save()
            return RecheckOutcome(status=purchase.status, retry_in=None)
        if check.state == "rejected" or purchase.check_attempts >= conf.PURCHASE_RECHECK_MAX_ATTEMPTS:
            purchase.status = Purchase.Status.FAILED
            purchase.failure_reason = (check.reason if check.state == "rejected" else "not confirmed in time")[:255]
            purchase.save()
            return RecheckOutcome(status=purchase.status, retry_in=None)
        purchase.failure_reason = check.reason[:255]
        purchase.save()
        retry_in = recheck_delay_seconds(purchase.check_attempts) if schedule_next else None
        return RecheckOutcome(status=purchase.status, retry_in=retry_in)


def purchases_pending_sweep() -> int:
    """Re-check pending purchases whose next check is overdue (a lost task, or no broker at all)."""
    overdue = 0
    now = timezone.now()
    for purchase_id, attempts, updated_at in Purchase.objects.filter(status=Purchase.Status.PENDING).values_list(
        "pk", "check_attempts", "updated_at"
    ):
        if (now - updated_at).total_seconds() >= recheck_delay_seconds(attempts) * 2:
            job_send(PURCHASE_VERIFY_TASK, args=[str(purchase_id)])
            overdue += 1
    return overdue
