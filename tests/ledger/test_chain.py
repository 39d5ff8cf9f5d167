"""Tamper evidence: verify endpoint, management command, append-only model and database trigger."""

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from ledger import services
from ledger.models import ImmutableRecordError, LedgerObject, LedgerTransaction
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

TRANSACTIONS = "/cerebro/api/ledger/transactions"
OBJECTS = "/cerebro/api/ledger/objects"


@pytest.fixture
def contract_with_history(owner_client, contract_created):
    for status in ("sent", "signed", "paid"):
        r = owner_client.post(
            TRANSACTIONS,
            {"objectId": contract_created["id"], "action": "update", "data": {"status": status}},
            format="json",
        )
        assert r.status_code == 200, r.json()
    return LedgerObject.objects.get(pk=contract_created["id"])


def _tamper(sql: str, params: list) -> None:
    """Change a stored transaction behind the application's back (a trigger must be bypassed on PostgreSQL)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Superuser only: ordinary triggers (the append-only one) do not fire for this session.
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_an_intact_chain_verifies(owner_client, contract_with_history):
    r = owner_client.get(f"{OBJECTS}/{contract_with_history.pk}/verify")

    assert r.status_code == 200, r.json()
    assert r.json() == {
        "objectId": str(contract_with_history.pk),
        "valid": True,
        "transactionCount": 4,
        "headHash": contract_with_history.head_hash,
        "firstBrokenLink": None,
    }


def test_a_tampered_row_is_reported_as_the_first_broken_link(owner_client, contract_with_history):
    third = LedgerTransaction.objects.get(ledger_object=contract_with_history, sequence=3)
    _tamper("UPDATE ledger_ledgertransaction SET data = %s WHERE id = %s", ['{"status": "forged"}', third.pk.hex])

    r = owner_client.get(f"{OBJECTS}/{contract_with_history.pk}/verify")

    assert r.status_code == 200, r.json()
    assert r.json()["valid"] is False
    assert r.json()["firstBrokenLink"] == {"sequence": 3, "transactionId": str(third.pk), "reason": "hash_mismatch"}


def test_a_removed_last_transaction_is_reported_as_a_head_mismatch(owner_client, contract_with_history):
    last = LedgerTransaction.objects.get(ledger_object=contract_with_history, sequence=4)
    _tamper("DELETE FROM ledger_ledgertransaction WHERE id = %s", [last.pk.hex])

    r = owner_client.get(f"{OBJECTS}/{contract_with_history.pk}/verify")

    assert r.json()["firstBrokenLink"]["reason"] == "head_mismatch"


def test_a_removed_middle_transaction_is_reported_as_a_sequence_gap(owner_client, contract_with_history):
    second = LedgerTransaction.objects.get(ledger_object=contract_with_history, sequence=2)
    _tamper("DELETE FROM ledger_ledgertransaction WHERE id = %s", [second.pk.hex])

    r = owner_client.get(f"{OBJECTS}/{contract_with_history.pk}/verify")

    assert r.json()["firstBrokenLink"]["sequence"] == 2
    assert r.json()["firstBrokenLink"]["reason"] == "sequence_gap"


def test_an_edited_object_state_is_reported(owner_client, contract_with_history):
    LedgerObject.objects.filter(pk=contract_with_history.pk).update(data={"status": "paid", "amount": 1})

    r = owner_client.get(f"{OBJECTS}/{contract_with_history.pk}/verify")

    assert r.json()["firstBrokenLink"]["reason"] == "state_mismatch"


def test_verify_of_a_foreign_object_is_404(client_of, other_user, contract_with_history):
    r = client_of(other_user).get(f"{OBJECTS}/{contract_with_history.pk}/verify")

    assert r.status_code == 404, r.json()


def test_management_command_reports_the_first_broken_link_and_fails(contract_with_history, capsys):
    call_command("ledger_verify")
    assert "1 intact, 0 broken" in capsys.readouterr().out
    third = LedgerTransaction.objects.get(ledger_object=contract_with_history, sequence=3)
    _tamper("UPDATE ledger_ledgertransaction SET action = %s WHERE id = %s", ["forged", third.pk.hex])

    with pytest.raises(CommandError):
        call_command("ledger_verify")

    out = capsys.readouterr().out
    assert f"object={contract_with_history.pk} sequence=3 transaction={third.pk} reason=hash_mismatch" in out


def test_the_model_refuses_updates_and_deletes(contract_with_history):
    txn = LedgerTransaction.objects.filter(ledger_object=contract_with_history).first()

    txn.action = "forged"
    with pytest.raises(ImmutableRecordError):
        txn.save()
    with pytest.raises(ImmutableRecordError):
        txn.delete()
    with pytest.raises(ImmutableRecordError):
        LedgerTransaction.objects.filter(pk=txn.pk).update(action="forged")
    with pytest.raises(ImmutableRecordError):
        LedgerTransaction.objects.filter(pk=txn.pk).delete()


@pytest.mark.postgres
def test_the_database_refuses_updates_and_deletes_on_postgresql(contract_with_history):
    txn = LedgerTransaction.objects.filter(ledger_object=contract_with_history).first()

    for sql in (
        "UPDATE ledger_ledgertransaction SET action = 'x' WHERE id = %s",
        "DELETE FROM ledger_ledgertransaction WHERE id = %s",
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [txn.pk])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_form_one_linear_chain():
    owner = UserFactory()
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="test")
    ledger_object = services.ledger_object_create(user=owner, type_name="contract", data={}, origin=origin)
    errors: list[BaseException] = []

    def append(n: int) -> None:
        try:
            services.ledger_transaction_append(
                user=owner, object_id=ledger_object.pk, action="note", data={f"k{n}": n}, origin=origin
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    ledger_object.refresh_from_db()
    assert ledger_object.head_sequence == 13
    assert len(ledger_object.data) == 12
    assert services.ledger_object_verify(ledger_object=ledger_object).valid


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_idempotency_key_append_once():
    owner = UserFactory()
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="test")
    ledger_object = services.ledger_object_create(user=owner, type_name="contract", data={}, origin=origin)
    results: list = []
    barrier = threading.Barrier(6)

    def attempt() -> None:
        try:
            barrier.wait()
            result = services.idempotent_call(
                user=owner,
                key="same-key",
                endpoint="ledger.transactions.create",
                payload={"n": 1},
                produce=lambda: {
                    "id": str(
                        services.ledger_transaction_append(
                            user=owner, object_id=ledger_object.pk, action="pay", data={"paid": True}, origin=origin
                        ).pk
                    )
                },
            )
            results.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 6
    assert len({r.body["id"] for r in results}) == 1
    assert sum(not r.replayed for r in results) == 1
    ledger_object.refresh_from_db()
    assert ledger_object.head_sequence == 2


# Numbers whose JSON Python writes differently from the form jsonb gives back (an exponent, a minus zero).
NUMBERS_JSONB_REWRITES = '{"amount": 1e16, "huge": 1e300, "big": -1.5e+20, "zero": -0.0, "small": 1.5e-7, "n": [1e16]}'


@pytest.mark.postgres
def test_a_chain_with_numbers_jsonb_rewrites_verifies_on_postgresql(owner_client):
    created = owner_client.generic(
        "POST", OBJECTS, f'{{"typeName": "invoice", "data": {NUMBERS_JSONB_REWRITES}}}', content_type="application/json"
    )
    assert created.status_code == 200, created.json()
    object_id = created.json()["object"]["id"]
    appended = owner_client.generic(
        "POST",
        TRANSACTIONS,
        f'{{"objectId": "{object_id}", "action": "update", "data": {NUMBERS_JSONB_REWRITES}}}',
        content_type="application/json",
    )
    assert appended.status_code == 200, appended.json()

    r = owner_client.get(f"{OBJECTS}/{object_id}/verify")

    assert r.status_code == 200, r.json()
    assert r.json()["valid"] is True, r.json()
    call_command("ledger_verify", "--object", object_id)


def test_numbers_are_kept_in_the_form_the_database_gives_back(owner_client):
    r = owner_client.generic(
        "POST", OBJECTS, f'{{"typeName": "invoice", "data": {NUMBERS_JSONB_REWRITES}}}', content_type="application/json"
    )

    assert r.status_code == 200, r.json()
    data = r.json()["object"]["data"]
    assert data == {"amount": 10**16, "huge": 10**300, "big": -15 * 10**19, "zero": 0.0, "small": 1.5e-7, "n": [10**16]}
    assert isinstance(data["huge"], int) and isinstance(data["zero"], float)
    stored = LedgerTransaction.objects.get(ledger_object_id=r.json()["object"]["id"]).data
    assert stored == data and services.chain.canonical_json(stored) == services.chain.canonical_json(data)
    assert owner_client.get(f"{OBJECTS}/{r.json()['object']['id']}/verify").json()["valid"] is True


def test_a_chain_stored_before_numbers_were_normalised_still_verifies(user):
    if connection.vendor != "sqlite":
        pytest.skip("on PostgreSQL such rows never verified: jsonb had already rewritten their numbers")
    # Written as the service wrote them before: floats as the client sent them, hashed as Python writes them
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="old client")
    old = services.ledger_object_create(
        user=user, type_name="invoice", data={"amount": 1e16, "zero": -0.0, "huge": 1e300}, origin=origin
    )

    report = services.ledger_object_verify(ledger_object=LedgerObject.objects.get(pk=old.pk))

    assert report.valid, report
    assert services.chain.canonical_json({"amount": 1e16, "zero": -0.0}) == b'{"amount":1e+16,"zero":-0.0}'
