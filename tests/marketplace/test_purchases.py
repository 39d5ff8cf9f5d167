"""Purchases against a fake Ethereum node and a fake Stripe: success, replay, underpayment, pending."""

from decimal import Decimal

import httpx
import pytest
import respx

from marketplace import conf
from marketplace.integrations.stripe import StripeClient
from marketplace.models import Dataset, Purchase, WebhookDelivery
from marketplace.services.webhooks import webhook_endpoint_create
from marketplace.tasks import purchase_verify_task
from tests.marketplace.conftest import API, attach_file
from tests.marketplace.factories import DatasetFactory
from tests.marketplace.fake_chain import RPC_URL, FakeChain

pytestmark = pytest.mark.django_db

PRICE_WEI = 5 * 10**16  # 0.05 ETH


@pytest.fixture
def chain(monkeypatch):
    monkeypatch.setattr(conf, "ETH_RPC_URL", RPC_URL)
    monkeypatch.setattr(conf, "MIN_CONFIRMATIONS", 3)
    fake = FakeChain()
    with respx.mock(assert_all_called=False) as router:
        fake.install(router)
        yield fake


def wallet_of(user) -> str:
    return user.wallet_profile.wallet_address


def purchase(client, dataset, tx_hash, method="crypto"):
    return client.post(
        f"{API}/datasets/{dataset.id}/purchase", {"transactionHash": tx_hash, "paymentMethod": method}, format="json"
    )


def test_a_confirmed_payment_completes_the_purchase(
    chain, buyer, buyer_client, creator, dataset_paid, django_capture_on_commit_callbacks
):
    # given a confirmed transaction paying the price to the creator's wallet
    tx = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI)
    chain.mine(5)
    webhook_endpoint_create(user=creator, url="https://hooks.test/creator", events=["payment.completed"])
    with respx.mock(assert_all_called=False) as hooks:
        chain.install(hooks)
        receiver = hooks.post("https://hooks.test/creator").mock(return_value=httpx.Response(200))
        # when the buyer submits it
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            r = purchase(buyer_client, dataset_paid, tx)
    # then
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["fullAccessCID"] == dataset_paid.full_cid
    assert body["purchase"]["status"] == "completed"
    assert body["purchase"]["amount"] == 0.05 and body["purchase"]["currency"] == "ETH"
    assert body["purchase"]["transactionHash"] == tx
    dataset_paid.refresh_from_db()
    assert dataset_paid.purchases == 1
    assert receiver.call_count == 1
    assert WebhookDelivery.objects.get().status == "succeeded"
    assert len(callbacks) >= 2  # the creator's event and the webhook
    access = buyer_client.get(f"{API}/datasets/{dataset_paid.id}").json()["userAccess"]
    assert access == {"canView": True, "canDownload": True, "hasPurchased": True}


def test_a_transaction_is_never_used_twice(chain, buyer, buyer_client, stranger_client, creator, dataset_paid):
    tx = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI)
    chain.mine(5)
    answer = purchase(buyer_client, dataset_paid, tx)
    assert answer.status_code == 201, answer.json()
    other = DatasetFactory(creator=creator, price=Decimal("0.05"))
    r = purchase(buyer_client, other, tx)
    assert r.status_code == 409, r.json()
    assert r.json()["error"]["code"] == "TRANSACTION_ALREADY_USED"
    r = purchase(stranger_client, dataset_paid, tx.upper().replace("0X", "0x"))
    assert r.status_code == 409, r.json()
    assert Purchase.objects.count() == 1


def test_buying_twice_is_a_conflict(chain, buyer, buyer_client, creator, dataset_paid):
    first = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI)
    second = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI)
    chain.mine(5)
    answer = purchase(buyer_client, dataset_paid, first)
    assert answer.status_code == 201, answer.json()
    r = purchase(buyer_client, dataset_paid, second)
    assert r.status_code == 409, r.json()
    assert r.json()["error"]["code"] == "ALREADY_PURCHASED"


def test_underpayment_is_refused(chain, buyer, buyer_client, creator, dataset_paid):
    tx = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI - 1)
    chain.mine(5)
    r = purchase(buyer_client, dataset_paid, tx)
    assert r.status_code == 402, r.json()
    assert r.json()["error"]["code"] == "INSUFFICIENT_BALANCE"
    assert r.json()["error"]["details"]["reason"] == "underpaid"
    assert not Purchase.objects.exists()


@pytest.mark.parametrize("case", ["wrong_recipient", "reverted", "wrong_sender"])
def test_invalid_payments_are_refused(chain, buyer, buyer_client, creator, stranger, dataset_paid, case):
    sender, to, status = wallet_of(buyer), wallet_of(creator), 1
    if case == "wrong_recipient":
        to = wallet_of(stranger)
    elif case == "reverted":
        status = 0
    else:
        sender = wallet_of(stranger)
    tx = chain.send(sender=sender, to=to, value_wei=PRICE_WEI, status=status)
    chain.mine(5)
    r = purchase(buyer_client, dataset_paid, tx)
    assert r.status_code == 402, r.json()
    assert r.json()["error"]["code"] == "PAYMENT_INVALID"
    assert not Purchase.objects.exists()


def test_an_unconfirmed_payment_is_pending_until_the_task_sees_it_confirmed(
    chain, buyer, buyer_client, creator, dataset_paid, django_capture_on_commit_callbacks
):
    # given a transaction with one confirmation of three
    tx = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI)
    with django_capture_on_commit_callbacks(execute=True):
        r = purchase(buyer_client, dataset_paid, tx)
    assert r.status_code == 202, r.json()
    assert r.json()["purchase"]["status"] == "pending"
    assert r.json()["fullAccessCID"] is None
    purchase_row = Purchase.objects.get()
    assert purchase_row.status == "pending"  # the in-process re-check found it still short
    # when the chain moves on and the task re-checks
    chain.mine(3)
    with django_capture_on_commit_callbacks(execute=True):
        purchase_verify_task.delay(str(purchase_row.id))
    # then
    purchase_row.refresh_from_db()
    assert purchase_row.status == "completed"
    assert Dataset.objects.get(pk=dataset_paid.pk).purchases == 1


def test_resubmitting_a_pending_payment_checks_it_again(chain, buyer, buyer_client, creator, dataset_paid):
    tx = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI)
    answer = purchase(buyer_client, dataset_paid, tx)
    assert answer.status_code == 202, answer.json()
    chain.mine(5)
    r = purchase(buyer_client, dataset_paid, tx)
    assert r.status_code == 201, r.json()
    assert r.json()["fullAccessCID"] == dataset_paid.full_cid


def test_a_pending_payment_that_never_confirms_fails_after_the_last_check(
    chain, buyer, buyer_client, creator, dataset_paid, monkeypatch
):
    monkeypatch.setattr(conf, "PURCHASE_RECHECK_MAX_ATTEMPTS", 2)
    tx = chain.send(sender=wallet_of(buyer), to=wallet_of(creator), value_wei=PRICE_WEI, mined=False)
    answer = purchase(buyer_client, dataset_paid, tx)
    assert answer.status_code == 202, answer.json()
    purchase_verify_task.delay(str(Purchase.objects.get().id))
    row = Purchase.objects.get()
    assert row.status == "failed" and row.failure_reason == "not confirmed in time"


def test_the_node_being_down_is_a_bad_gateway(monkeypatch, buyer_client, dataset_paid):
    monkeypatch.setattr(conf, "ETH_RPC_URL", RPC_URL)
    with respx.mock() as router:
        router.post(RPC_URL).mock(side_effect=httpx.ConnectError("down"))
        r = purchase(buyer_client, dataset_paid, "0x" + "ab" * 32)
    assert r.status_code == 502, r.json()
    assert r.json()["error"]["code"] == "EXTERNAL_API_ERROR"


def test_bad_requests(chain, buyer_client, creator_client, dataset_paid, dataset_free):
    answer = purchase(buyer_client, dataset_paid, "0x12")
    assert answer.status_code == 400, answer.json()
    answer = purchase(buyer_client, dataset_free, "0x" + "ab" * 32)
    assert answer.status_code == 400, answer.json()
    answer = purchase(buyer_client, dataset_paid, "pi_123", method="stripe")
    assert answer.status_code == 400, answer.json()
    answer = purchase(creator_client, dataset_paid, "0x" + "ab" * 32)
    assert answer.status_code == 409, answer.json()


# --- stripe --------------------------------------------------------------------------------------


@pytest.fixture
def stripe(monkeypatch):
    monkeypatch.setattr(conf, "STRIPE_API_URL", "http://stripe.test")
    monkeypatch.setattr(conf, "STRIPE_SECRET_KEY", "sk_test_123")
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def dataset_usd(creator):
    return attach_file(DatasetFactory(creator=creator, price=Decimal("9.99"), currency="USD"))


def intent(router, intent_id, **fields):
    body = {"id": intent_id, "status": "succeeded", "amount_received": 999, "currency": "usd", "metadata": {}}
    body.update(fields)
    return router.get(f"http://stripe.test/v1/payment_intents/{intent_id}").mock(
        return_value=httpx.Response(200, json=body)
    )


def test_a_succeeded_payment_intent_completes_the_purchase(stripe, buyer_client, dataset_usd):
    route = intent(stripe, "pi_ok")
    r = purchase(buyer_client, dataset_usd, "pi_ok", method="stripe")
    assert r.status_code == 201, r.json()
    assert r.json()["fullAccessCID"] == dataset_usd.full_cid
    assert route.calls.last.request.headers["Authorization"] == "Bearer sk_test_123"
    answer = purchase(buyer_client, dataset_usd, "pi_ok", method="stripe")
    assert answer.status_code == 409, answer.json()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"amount_received": 998}, "INSUFFICIENT_BALANCE"),
        ({"currency": "eur"}, "PAYMENT_INVALID"),
        ({"status": "canceled"}, "PAYMENT_INVALID"),
        ({"metadata": {"datasetId": "someone-else"}}, "PAYMENT_INVALID"),
    ],
)
def test_bad_payment_intents_are_refused(stripe, buyer_client, dataset_usd, fields, code):
    intent(stripe, "pi_bad", **fields)
    r = purchase(buyer_client, dataset_usd, "pi_bad", method="stripe")
    assert r.status_code == 402, r.json()
    assert r.json()["error"]["code"] == code


def test_a_processing_payment_intent_is_pending(stripe, buyer_client, dataset_usd):
    intent(stripe, "pi_wait", status="processing")
    r = purchase(buyer_client, dataset_usd, "pi_wait", method="stripe")
    assert r.status_code == 202, r.json()
    assert r.json()["purchase"]["status"] == "pending"


@pytest.mark.parametrize("spelling", ["pi_ok#again", "pi_zz/../pi_ok", "pi_ok?x=1", "pi_ok%2F", "pi_o.k", "pi_"])
def test_one_payment_intent_buys_one_dataset_however_its_id_is_spelled(
    stripe, creator, buyer_client, dataset_usd, spelling
):
    # given a PaymentIntent already used to buy one dataset
    route = stripe.get(url__regex=r"^http://stripe\.test/").mock(
        return_value=httpx.Response(
            200, json={"id": "pi_ok", "status": "succeeded", "amount_received": 999, "currency": "usd", "metadata": {}}
        )
    )
    first = purchase(buyer_client, dataset_usd, "pi_ok", method="stripe")
    assert first.status_code == 201, first.json()
    # when its id, spelled otherwise, is offered for another dataset
    other = attach_file(DatasetFactory(creator=creator, price=Decimal("9.99"), currency="USD"))
    r = purchase(buyer_client, other, spelling, method="stripe")
    # then it is refused before Stripe is asked
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["details"] == {"transactionHash": ["invalid"]}
    assert route.call_count == 1
    assert Purchase.objects.count() == 1


def test_an_answer_about_another_payment_intent_is_refused(stripe, buyer_client, dataset_usd):
    intent(stripe, "pi_asked", id="pi_other")
    r = purchase(buyer_client, dataset_usd, "pi_asked", method="stripe")
    assert r.status_code == 402, r.json()
    assert r.json()["error"]["details"]["reason"] == "id_mismatch"
    assert not Purchase.objects.exists()


def test_the_payment_intent_id_is_quoted_in_stripes_path():
    with respx.mock() as router:
        route = router.get("http://stripe.test/v1/payment_intents/pi_a%2F..%2Fb%23c").mock(
            return_value=httpx.Response(404)
        )
        assert StripeClient("http://stripe.test", secret_key="sk").payment_intent("pi_a/../b#c") is None
    assert route.called


def test_a_transaction_hash_must_be_exactly_64_hex_digits(chain, buyer, buyer_client, creator, dataset_paid):
    for malformed in ("0x" + "_a" * 32, "0x" + "ab" * 31 + " a", "0x" + "+a" * 32, "0x" + "ag" * 32):
        r = purchase(buyer_client, dataset_paid, malformed)
        assert r.status_code == 400, r.json()
    assert not Purchase.objects.exists()
