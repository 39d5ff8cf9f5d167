"""What must hold under concurrent requests on PostgreSQL: one use per nonce and per transaction."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from threading import Barrier

import pytest
from django.db import connection

from marketplace.errors import INVALID_SIGNATURE
from marketplace.models import Purchase, UsedSiweNonce
from marketplace.services import auth as auth_services
from marketplace.services import purchases as purchase_services
from marketplace.services.payment_checks import PaymentCheck
from tests.marketplace.conftest import sign, siwe_message
from tests.marketplace.factories import DatasetFactory, WalletProfileFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def in_parallel(count: int, work):
    barrier = Barrier(count)

    def run(index):
        barrier.wait()
        try:
            return work(index)
        except Exception as exc:
            return exc
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_a_signed_message_replayed_concurrently_signs_in_once(wallet):
    message = siwe_message(wallet.address, nonce="racenonce1")
    signature = sign(wallet, message)
    results = in_parallel(
        4, lambda _: auth_services.wallet_sign_in(wallet_address=wallet.address, message=message, signature=signature)
    )
    failures = [r for r in results if isinstance(r, Exception)]
    assert len(failures) == 3
    assert all(getattr(f, "code", None) == INVALID_SIGNATURE.code for f in failures)
    assert UsedSiweNonce.objects.count() == 1


def test_one_transaction_buys_one_purchase_under_concurrency(monkeypatch):
    creator = WalletProfileFactory().user
    buyers = [WalletProfileFactory().user for _ in range(4)]
    datasets = [DatasetFactory(creator=creator, price=Decimal("0.01")) for _ in range(4)]
    monkeypatch.setattr(purchase_services, "_check_payment", lambda _: PaymentCheck.confirmed(block_number=1))
    tx = "0x" + "cd" * 32
    results = in_parallel(
        4,
        lambda i: purchase_services.purchase_create(
            buyer=buyers[i], dataset=datasets[i], transaction_hash=tx, payment_method="crypto"
        ),
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert {r.code for r in results if isinstance(r, Exception)} == {"TRANSACTION_ALREADY_USED"}
    assert Purchase.objects.count() == 1
