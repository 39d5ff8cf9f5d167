"""The append path of POST /cerebro/api/ledger/transactions under real concurrency, and what it hashes.

On PostgreSQL an append is one statement that locks only its own object's head; these tests hammer
one object and eight objects from many threads (each its own client and database connection) and
then check every chain with `manage.py ledger_verify`.
"""

import itertools
import threading
import uuid
from collections.abc import Callable

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext

from ledger import services
from ledger.models import LedgerObject, LedgerTransaction
from tests.factories import UserFactory

TRANSACTIONS = "/cerebro/api/ledger/transactions"
OBJECTS = "/cerebro/api/ledger/objects"
CLIENTS = 8
APPENDS_EACH = 12


@pytest.fixture
def many_requests_allowed(settings):
    settings.RATE_LIMIT_MULTIPLIER = 1000  # every thread is one user: count appends, not 429s


def _in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run ``work(n)`` in ``count`` threads released at once; the errors they raised."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def run(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as problem:
            errors.append(problem)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _create(client, n: int = 0) -> str:
    r = client.post(OBJECTS, {"typeName": "contract", "data": {"n": n}}, format="json")
    assert r.status_code == 200, r.json()
    return r.json()["object"]["id"]


def _chain_of(object_id: str) -> list[LedgerTransaction]:
    return list(LedgerTransaction.objects.filter(ledger_object_id=object_id).order_by("sequence"))


@pytest.mark.postgres
@pytest.mark.django_db
def test_an_append_is_one_statement_on_postgresql(owner_client, contract_created):
    # Given an object; when one transaction is appended through the API
    with CaptureQueriesContext(connection) as queries:
        r = owner_client.post(
            TRANSACTIONS, {"objectId": contract_created["id"], "action": "update", "data": {"a": 1}}, format="json"
        )

    # Then the ledger was written in one statement (lock, link, move the head), outside any BEGIN
    assert r.status_code == 200, r.json()
    ledger = [q["sql"] for q in queries.captured_queries if "ledger_" in q["sql"]]
    assert len(ledger) == 1, ledger
    assert not [q for q in queries.captured_queries if q["sql"] in ("BEGIN", "COMMIT")]
    assert r.json()["transaction"]["sequence"] == 2
    call_command("ledger_verify", "--object", contract_created["id"])


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_clients_hammering_one_object_through_the_api_form_one_chain(client_of, many_requests_allowed):
    # Given one object and eight clients of its owner
    owner = UserFactory()
    object_id = _create(client_of(owner))

    # When each client appends to it at once, each append with a key of its own
    def append(n: int) -> None:
        client = client_of(owner)
        for step in range(APPENDS_EACH):
            body = {"objectId": object_id, "action": "update", "data": {f"c{n}s{step}": step, "status": f"s{n}"}}
            r = client.post(TRANSACTIONS, body, format="json")
            assert r.status_code == 200, r.json()

    errors = _in_threads(CLIENTS, append)

    # Then every append is in one linear chain, the state holds every key, and the chain verifies
    assert errors == []
    chain = _chain_of(object_id)
    assert [txn.sequence for txn in chain] == list(range(1, CLIENTS * APPENDS_EACH + 2))
    assert all(txn.previous_hash == before.hash for before, txn in itertools.pairwise(chain))
    ledger_object = LedgerObject.objects.get(pk=object_id)
    assert (ledger_object.head_sequence, ledger_object.head_hash) == (chain[-1].sequence, chain[-1].hash)
    assert len(ledger_object.data) == 1 + CLIENTS * APPENDS_EACH + 1  # n, every cXsY, status
    assert ledger_object.status == chain[-1].data["status"]
    call_command("ledger_verify")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_clients_spread_over_eight_objects_keep_eight_chains(client_of, many_requests_allowed):
    # Given eight objects
    owner = UserFactory()
    creator = client_of(owner)
    object_ids = [_create(creator, n) for n in range(CLIENTS)]

    # When eight clients append at once, each going round all the objects from its own start
    def append(n: int) -> None:
        client = client_of(owner)
        for step in range(APPENDS_EACH):
            object_id = object_ids[(n + step) % CLIENTS]
            body = {"objectId": object_id, "action": "note", "data": {f"c{n}s{step}": 1}}
            r = client.post(TRANSACTIONS, body, format="json")
            assert r.status_code == 200, r.json()

    errors = _in_threads(CLIENTS, append)

    # Then each object has a chain of its own, gapless, and all of them verify
    assert errors == []
    lengths = [len(_chain_of(object_id)) for object_id in object_ids]
    assert sum(lengths) == CLIENTS + CLIENTS * APPENDS_EACH
    for object_id in object_ids:
        assert [txn.sequence for txn in _chain_of(object_id)] == list(range(1, len(_chain_of(object_id)) + 1))
    call_command("ledger_verify")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_object_being_appended_to_holds_up_only_its_own_chain():
    # Given two objects, and a transaction that has appended to the first and not committed yet
    owner = UserFactory()
    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="test")
    first, second = (
        services.ledger_object_create(user=owner, type_name="contract", data={}, origin=origin) for _ in range(2)
    )
    locked, release = threading.Event(), threading.Event()

    def hold_the_first() -> None:
        try:
            with transaction.atomic():
                services.ledger_transaction_append(user=owner, object_id=first.pk, action="a", data={}, origin=origin)
                locked.set()
                release.wait(30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_first)
    holder.start()
    assert locked.wait(30)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '1s'")
        # When appending to the second object, then to the first, while the first is locked
        second_txn = services.ledger_transaction_append(
            user=owner, object_id=second.pk, action="b", data={}, origin=origin
        )
        # Then the second object's append goes through, and only the first object's waits
        with pytest.raises(OperationalError, match="lock timeout"):
            services.ledger_transaction_append(user=owner, object_id=first.pk, action="c", data={}, origin=origin)
    finally:
        release.set()
        holder.join(30)
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert second_txn.sequence == 2
    services.ledger_transaction_append(user=owner, object_id=first.pk, action="c", data={}, origin=origin)
    assert [txn.action for txn in _chain_of(first.pk)] == ["create", "a", "c"]
    call_command("ledger_verify")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_request_append_once(client_of, many_requests_allowed):
    # Given an object, and eight clients sending the same request with the same Idempotency-Key at once
    owner = UserFactory()
    object_id = _create(client_of(owner))
    body = {"objectId": object_id, "action": "pay", "data": {"paid": True}}
    answers: list = []

    def send(n: int) -> None:
        r = client_of(owner).post(TRANSACTIONS, body, format="json", HTTP_IDEMPOTENCY_KEY="pay-once")
        assert r.status_code == 200, r.json()
        answers.append(r)

    errors = _in_threads(CLIENTS, send)

    # Then one of them appended, the others replayed its answer, and the chain moved by one
    assert errors == []
    assert all(r.json() == answers[0].json() for r in answers)
    assert sorted(r.headers.get("Idempotent-Replayed", "") for r in answers) == [""] + ["true"] * (CLIENTS - 1)
    assert [txn.sequence for txn in _chain_of(object_id)] == [1, 2]
    call_command("ledger_verify")


@pytest.mark.django_db
def test_a_replay_after_later_appends_answers_the_first_answer_and_appends_nothing(owner_client, contract_created):
    # Given a keyed append followed by another append
    keyed = {"objectId": contract_created["id"], "action": "update", "data": {"status": "signed"}}
    first = owner_client.post(TRANSACTIONS, keyed, format="json", HTTP_IDEMPOTENCY_KEY="sign-1")
    later = owner_client.post(
        TRANSACTIONS,
        {"objectId": contract_created["id"], "action": "update", "data": {"status": "paid"}},
        format="json",
    )
    assert (first.status_code, later.status_code) == (200, 200), (first.json(), later.json())

    # When the keyed request is sent again
    replay = owner_client.post(TRANSACTIONS, keyed, format="json", HTTP_IDEMPOTENCY_KEY="sign-1")

    # Then it answers the first answer, and neither the chain nor the state moves back or on
    assert replay.status_code == 200, replay.json()
    assert replay.json() == first.json()
    ledger_object = LedgerObject.objects.get(pk=contract_created["id"])
    assert (ledger_object.head_sequence, ledger_object.status) == (3, "paid")
    call_command("ledger_verify")


@pytest.mark.django_db
def test_an_idempotency_key_too_long_to_store_is_refused_not_cut_short(owner_client, contract_created):
    # Two keys sharing their first 255 characters were one key once cut to fit the column.
    keyed = {"objectId": contract_created["id"], "action": "update", "data": {"status": "signed"}}
    at_most = owner_client.post(TRANSACTIONS, keyed, format="json", HTTP_IDEMPOTENCY_KEY="A" * 255)
    too_long = owner_client.post(TRANSACTIONS, keyed, format="json", HTTP_IDEMPOTENCY_KEY="A" * 255 + "X")

    assert at_most.status_code == 200, at_most.json()
    assert too_long.status_code == 400, too_long.json()
    assert too_long.json()["error"] == "validation_error"
    assert "Idempotency-Key" in too_long.json()["details"]
    assert LedgerObject.objects.get(pk=contract_created["id"]).head_sequence == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        '{"objectId": "%s", "action": "update", "data": {"note": "\\ud800"}}',
        '{"objectId": "%s", "action": "update", "data": {"\\udfff": 1}}',
        '{"objectId": "%s", "operationType": "UPDATE", "changes": {"note": "a\\ud83d"}}',
    ],
    ids=["lone-surrogate-value", "lone-surrogate-key", "app-shape"],
)
def test_text_the_chain_cannot_hash_is_refused(owner_client, contract_created, body):
    # Given text with a lone surrogate (valid JSON escapes, but no UTF-8 bytes to hash)
    r = owner_client.generic("POST", TRANSACTIONS, body % contract_created["id"], content_type="application/json")

    # Then the body is refused (core.parsers, before any view), and nothing is appended
    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "bad_request"
    assert "valid Unicode" in r.json()["message"]
    assert LedgerObject.objects.get(pk=contract_created["id"]).head_sequence == 1


@pytest.mark.django_db
def test_an_object_created_with_unhashable_text_is_refused(owner_client):
    r = owner_client.generic(
        "POST", OBJECTS, '{"typeName": "contract", "data": {"t": "\\ud800"}}', content_type="application/json"
    )

    assert r.status_code == 400, r.json()
    assert not LedgerObject.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("remote_addr", "stored"),
    [
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("::ffff:192.0.2.7", "::ffff:192.0.2.7"),
        ("192.0.2.7", "192.0.2.7"),
        ("unknown", None),
        ("", None),
    ],
)
def test_the_client_address_is_hashed_as_it_is_stored(client_of, user, contract_created, remote_addr, stored):
    # Given a client address in a form the database writes differently, or none at all
    client = client_of(user)
    client.defaults["REMOTE_ADDR"] = remote_addr

    # When appending
    r = client.post(TRANSACTIONS, {"objectId": contract_created["id"], "action": "update"}, format="json")

    # Then the transaction keeps the address as stored, and the chain still verifies
    assert r.status_code == 200, r.json()
    assert LedgerTransaction.objects.get(pk=r.json()["transaction"]["id"]).ip == stored
    call_command("ledger_verify")


@pytest.mark.django_db
def test_an_append_to_an_unknown_object_is_404_and_writes_nothing(owner_client, contract_created):
    r = owner_client.post(TRANSACTIONS, {"objectId": str(uuid.uuid4()), "action": "update"}, format="json")

    assert r.status_code == 404, r.json()
    assert LedgerTransaction.objects.count() == 1
