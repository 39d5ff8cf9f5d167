"""POST /api/ledger/transactions: appends, request-taken metadata, 404s and idempotency."""

import uuid

import pytest

from ledger.models import LedgerObject, LedgerTransaction

pytestmark = pytest.mark.django_db

TRANSACTIONS = "/cerebro/api/ledger/transactions"
OBJECTS = "/cerebro/api/ledger/objects"


def test_append_updates_the_object_state_and_extends_the_chain(owner_client, contract_created, user):
    r = owner_client.post(
        TRANSACTIONS,
        {"objectId": contract_created["id"], "action": "update", "data": {"status": "signed"}},
        format="json",
    )

    assert r.status_code == 200, r.json()
    txn = r.json()["transaction"]
    assert txn["objectId"] == contract_created["id"]
    assert txn["action"] == "update"
    assert txn["createdBy"] == str(user.pk)
    assert txn["sequence"] == 2
    assert txn["previousHash"] == contract_created["headHash"]
    state = owner_client.get(f"{OBJECTS}/{contract_created['id']}").json()["object"]
    assert state["data"]["status"] == "signed" and state["data"]["title"] == "Service Agreement"
    assert state["status"] == "signed"
    assert state["headHash"] == txn["hash"]


def test_ip_and_user_agent_come_from_the_request_not_the_body(owner_client, contract_created):
    r = owner_client.post(
        TRANSACTIONS,
        {
            "objectId": contract_created["id"],
            "action": "sign",
            "data": {},
            "metadata": {"ip": "6.6.6.6", "userAgent": "forged-agent"},
        },
        format="json",
        REMOTE_ADDR="203.0.113.7",
        HTTP_USER_AGENT="RealBrowser/1.0",
    )

    assert r.status_code == 200, r.json()
    stored = LedgerTransaction.objects.get(pk=r.json()["transaction"]["id"])
    assert stored.ip == "203.0.113.7"
    assert stored.user_agent == "RealBrowser/1.0"


def test_unknown_and_foreign_objects_are_404(owner_client, client_of, other_user, contract_created):
    foreign = client_of(other_user).post(
        TRANSACTIONS, {"objectId": contract_created["id"], "action": "update", "data": {}}, format="json"
    )
    unknown = owner_client.post(TRANSACTIONS, {"objectId": str(uuid.uuid4()), "action": "update"}, format="json")

    assert foreign.status_code == 404, foreign.json()
    assert foreign.json()["error"] == "not_found"
    assert unknown.status_code == 404, unknown.json()
    assert LedgerTransaction.objects.count() == 1


def test_invalid_transaction_is_a_validation_error(owner_client):
    r = owner_client.post(TRANSACTIONS, {"objectId": "not-a-uuid", "action": ""}, format="json")

    assert r.status_code == 400, r.json()
    assert set(r.json()["details"]) >= {"objectId", "action"}


def test_replay_with_the_same_key_and_body_returns_the_first_answer_and_never_forks(owner_client, contract_created):
    body = {"objectId": contract_created["id"], "action": "update", "data": {"status": "signed"}}

    first = owner_client.post(TRANSACTIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    replay = owner_client.post(TRANSACTIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == 200, first.json()
    assert replay.status_code == 200, replay.json()
    assert replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    ledger_object = LedgerObject.objects.get(pk=contract_created["id"])
    assert ledger_object.head_sequence == 2
    assert LedgerTransaction.objects.filter(ledger_object=ledger_object).count() == 2


def test_same_key_with_another_body_is_409(owner_client, contract_created):
    owner_client.post(
        TRANSACTIONS,
        {"objectId": contract_created["id"], "action": "update", "data": {"status": "signed"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    r = owner_client.post(
        TRANSACTIONS,
        {"objectId": contract_created["id"], "action": "update", "data": {"status": "void"}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-2",
    )

    assert r.status_code == 409, r.json()
    assert r.json()["error"] == "conflict"
    assert LedgerObject.objects.get(pk=contract_created["id"]).data["status"] == "signed"


def test_a_failed_request_does_not_burn_its_idempotency_key(owner_client, contract_created):
    missing = owner_client.post(
        TRANSACTIONS, {"objectId": str(uuid.uuid4()), "action": "update"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3"
    )
    retried = owner_client.post(
        TRANSACTIONS,
        {"objectId": contract_created["id"], "action": "update"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k-3",
    )

    assert missing.status_code == 404, missing.json()
    assert retried.status_code == 200, retried.json()


def test_transactions_list_in_chain_order_with_a_fixed_number_of_queries(
    owner_client, contract_created, django_assert_max_num_queries
):
    for n in range(10):
        owner_client.post(
            TRANSACTIONS, {"objectId": contract_created["id"], "action": "note", "data": {"n": n}}, format="json"
        )

    with django_assert_max_num_queries(6):
        r = owner_client.get(f"{OBJECTS}/{contract_created['id']}/transactions?limit=5&offset=1")

    assert r.status_code == 200, r.json()
    assert [t["sequence"] for t in r.json()["transactions"]] == [2, 3, 4, 5, 6]
    assert r.json()["total"] == 11 and r.json()["hasMore"] is True
