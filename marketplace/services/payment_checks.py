"""Whether a payment pays for a purchase: an Ethereum transaction or a Stripe PaymentIntent.

The answers come from the outside services' clients (``integrations.ethereum``,
``integrations.stripe``, at configurable base URLs, so tests and staging point them at a local
fake); what they mean is decided here. Each check returns a ``PaymentCheck``: confirmed, still
pending (check again later), or rejected with the domain error to answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from core.errors import DomainError
from marketplace import conf
from marketplace.errors import INSUFFICIENT_BALANCE, PAYMENT_INVALID
from marketplace.integrations.ethereum import EthereumRpc
from marketplace.integrations.stripe import StripeClient

WEI_PER_ETH = Decimal(10) ** 18
CENTS_PER_USD = Decimal(100)


@dataclass(frozen=True)
class PaymentCheck:
    state: str  # "confirmed" | "pending" | "rejected"
    reason: str = ""
    block_number: int | None = None
    error: DomainError | None = None

    @classmethod
    def confirmed(cls, block_number: int | None = None) -> PaymentCheck:
        return cls("confirmed", block_number=block_number)

    @classmethod
    def pending(cls, reason: str) -> PaymentCheck:
        return cls("pending", reason=reason)

    @classmethod
    def rejected(cls, error: DomainError) -> PaymentCheck:
        return cls("rejected", reason=error.message, error=error)


def eth_to_wei(amount: Decimal) -> int:
    """A price in ETH (up to 18 decimals) as wei, rounded up so a price is never undercharged."""
    return int((amount * WEI_PER_ETH).to_integral_value(rounding=ROUND_CEILING))


def usd_to_cents(amount: Decimal) -> int:
    return int((amount * CENTS_PER_USD).to_integral_value(rounding=ROUND_CEILING))


def _hex_int(value) -> int | None:
    try:
        return int(value, 16) if isinstance(value, str) else None
    except ValueError:
        return None


def crypto_payment_check(
    *, tx_hash: str, payee: str, payer: str | None, price_wei: int, rpc: EthereumRpc | None = None
) -> PaymentCheck:
    """Check an Ethereum transaction pays ``price_wei`` to ``payee`` from ``payer`` and is buried deep enough.

    Rejected when it reverted, went to someone else, came from another wallet than the buyer's,
    or paid less; pending while unknown, unmined, or short of ``MIN_CONFIRMATIONS``.
    """
    rpc = rpc or EthereumRpc()
    tx = rpc.transaction(tx_hash)
    if not tx:
        return PaymentCheck.pending("transaction not found yet")
    tx_block = _hex_int(tx.get("blockNumber"))
    if tx_block is None:
        return PaymentCheck.pending("transaction not mined yet")
    receipt = rpc.receipt(tx_hash)
    if not receipt:
        return PaymentCheck.pending("receipt not available yet")
    if _hex_int(receipt.get("status")) != 1:
        return PaymentCheck.rejected(PAYMENT_INVALID("The transaction failed on chain", details={"reason": "reverted"}))
    recipient = (tx.get("to") or "").lower()
    if recipient != payee.lower():
        return PaymentCheck.rejected(
            PAYMENT_INVALID(
                "The transaction does not pay this dataset's payee",
                details={"reason": "wrong_recipient", "expected": payee, "received": tx.get("to")},
            )
        )
    if payer is None or (tx.get("from") or "").lower() != payer.lower():
        return PaymentCheck.rejected(
            PAYMENT_INVALID(
                "The transaction was not sent from your signed-in wallet", details={"reason": "wrong_sender"}
            )
        )
    value = _hex_int(tx.get("value")) or 0
    if value < price_wei:
        return PaymentCheck.rejected(
            INSUFFICIENT_BALANCE(
                "The transaction pays less than the dataset's price",
                details={"reason": "underpaid", "requiredWei": str(price_wei), "paidWei": str(value)},
            )
        )
    confirmations = rpc.block_number() - tx_block + 1
    if confirmations < conf.MIN_CONFIRMATIONS:
        return PaymentCheck(
            "pending", reason=f"{confirmations} of {conf.MIN_CONFIRMATIONS} confirmations", block_number=tx_block
        )
    return PaymentCheck.confirmed(block_number=tx_block)


def _intent_for_another_purchase(intent: dict, *, dataset_id: str, user_id: str) -> PaymentCheck | None:
    metadata = intent.get("metadata") or {}
    for key, expected in (("datasetId", dataset_id), ("userId", user_id)):
        if metadata.get(key) and metadata[key] != expected:
            return PaymentCheck.rejected(
                PAYMENT_INVALID("This payment was made for another purchase", details={"reason": f"{key}_mismatch"})
            )
    return None


def _succeeded_intent_check(intent: dict, *, price_cents: int) -> PaymentCheck:
    """A succeeded PaymentIntent pays the price if it is in US dollars and at least that much."""
    if (intent.get("currency") or "").lower() != "usd":
        return PaymentCheck.rejected(
            PAYMENT_INVALID("The payment is not in US dollars", details={"reason": "currency"})
        )
    paid = intent.get("amount_received", intent.get("amount")) or 0
    if paid < price_cents:
        return PaymentCheck.rejected(
            INSUFFICIENT_BALANCE(
                "The payment is less than the dataset's price",
                details={"reason": "underpaid", "requiredCents": price_cents, "paidCents": paid},
            )
        )
    return PaymentCheck.confirmed()


def stripe_payment_check(
    *, payment_intent_id: str, price_cents: int, dataset_id: str, user_id: str, client: StripeClient | None = None
) -> PaymentCheck:
    """Check a Stripe PaymentIntent succeeded for at least the price, in US dollars, for this purchase.

    The answer must be about exactly the intent asked for (its ``id``). When the intent carries
    ``metadata.datasetId`` / ``metadata.userId`` they must name this dataset and buyer, which stops
    one payment being claimed by someone else.
    """
    intent = (client or StripeClient()).payment_intent(payment_intent_id)
    if intent is None:
        return PaymentCheck.rejected(PAYMENT_INVALID("No such PaymentIntent", details={"reason": "not_found"}))
    if intent.get("id") != payment_intent_id:
        # The stored id is what the unique constraint counts; the answer must be about that very intent.
        return PaymentCheck.rejected(
            PAYMENT_INVALID("Stripe answered about another PaymentIntent", details={"reason": "id_mismatch"})
        )
    mismatch = _intent_for_another_purchase(intent, dataset_id=dataset_id, user_id=user_id)
    if mismatch is not None:
        return mismatch
    status = intent.get("status")
    if status in ("processing", "requires_capture"):
        return PaymentCheck.pending(f"payment {status}")
    if status != "succeeded":
        return PaymentCheck.rejected(
            PAYMENT_INVALID("The payment did not succeed", details={"reason": "not_succeeded", "status": status})
        )
    return _succeeded_intent_check(intent, price_cents=price_cents)
