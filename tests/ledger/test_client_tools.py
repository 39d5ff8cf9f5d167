"""The minicontratos app's ledger tool calls: ``GET objects?type=`` and ``POST transactions`` with
``{objectId, operationType, changes, createdBy}``, on the same hash chain as the spec's shapes."""

from __future__ import annotations

import uuid

import pytest

from ledger.models import LedgerTransaction

pytestmark = pytest.mark.django_db

OBJECTS = "/cerebro/api/ledger/objects"
TRANSACTIONS = "/cerebro/api/ledger/transactions"


@pytest.fixture
def registry(owner_client, client_of, other_user) -> dict[str, str]:
    """Two Clientes and a Contrato of the user, a Cliente of someone else."""
    ids = {}
    for name, type_name in (("ana", "Cliente"), ("bob", "Cliente"), ("solar", "Contrato")):
        r = owner_client.post(OBJECTS, {"typeName": type_name, "data": {"nome": name}}, format="json")
        assert r.status_code == 200, r.json()
        ids[name] = r.json()["object"]["id"]
    client_of(other_user).post(OBJECTS, {"typeName": "Cliente", "data": {"nome": "eve"}}, format="json")
    return ids


def test_get_objects_lists_the_users_objects_of_a_type(owner_client, registry):
    clientes = owner_client.get(OBJECTS, {"type": "Cliente"})
    everything = owner_client.get(OBJECTS)
    none = owner_client.get(OBJECTS, {"type": "Despesa"})

    assert clientes.status_code == 200, clientes.json()
    assert [o["data"]["nome"] for o in clientes.json()["objects"]] == ["bob", "ana"]
    assert clientes.json()["total"] == 2 and clientes.json()["hasMore"] is False
    assert everything.json()["total"] == 3
    assert none.json() == {"objects": [], "total": 0, "hasMore": False}


def test_get_objects_pages_and_validates(owner_client, registry):
    page = owner_client.get(OBJECTS, {"limit": 2, "offset": 1})
    bad = owner_client.get(OBJECTS, {"limit": 0})

    assert [o["data"]["nome"] for o in page.json()["objects"]] == ["bob", "ana"]
    assert page.json()["hasMore"] is False
    assert bad.status_code == 400 and bad.json()["error"] == "validation_error", bad.json()


def test_get_objects_needs_a_signed_in_user(api_client):
    r = api_client.get(OBJECTS, {"type": "Cliente"})

    assert r.status_code == 401, r.json()
    assert r.json()["error"] == "authentication_error"


def test_the_apps_operation_appends_to_the_same_chain(owner_client, registry, user):
    # Given an object created in the spec's shape and updated in the spec's shape
    object_id = registry["ana"]
    spec = owner_client.post(
        TRANSACTIONS, {"objectId": object_id, "action": "update", "data": {"cidade": "Lisboa"}}, format="json"
    )

    # When the app's tool updates it, naming another author
    app = owner_client.post(
        TRANSACTIONS,
        {
            "objectId": object_id,
            "operationType": "UPDATE",
            "changes": {"telefone": "11-99999-9999"},
            "createdBy": str(uuid.uuid4()),
        },
        format="json",
    )

    # Then it is the chain's next link, by the signed-in user, and the whole chain verifies
    assert spec.status_code == 200 and app.status_code == 200, app.json()
    txn = app.json()["transaction"]
    assert txn["action"] == "update" and txn["sequence"] == 3
    assert txn["data"] == {"telefone": "11-99999-9999"} and txn["createdBy"] == str(user.pk)
    assert txn["previousHash"] == spec.json()["transaction"]["hash"]
    state = owner_client.get(f"{OBJECTS}/{object_id}").json()["object"]["data"]
    assert state == {"nome": "ana", "cidade": "Lisboa", "telefone": "11-99999-9999"}
    assert owner_client.get(f"{OBJECTS}/{object_id}/verify").json()["valid"] is True
    assert list(LedgerTransaction.objects.filter(ledger_object_id=object_id).values_list("action", flat=True)) == [
        "create",
        "update",
        "update",
    ]


@pytest.mark.parametrize("created_by", ["user_2abc", 42, None, {"id": "x"}], ids=repr)
def test_created_by_is_ignored_whatever_it_holds(owner_client, registry, user, created_by):
    # NextAuth's user ids are not always UUIDs; docs/clients.md: createdBy is ignored.
    r = owner_client.post(
        TRANSACTIONS,
        {"objectId": registry["ana"], "operationType": "UPDATE", "changes": {"n": 1}, "createdBy": created_by},
        format="json",
    )

    assert r.status_code == 200, r.json()
    assert r.json()["transaction"]["createdBy"] == str(user.pk)


def test_a_delete_operation_is_recorded_as_delete(owner_client, registry):
    r = owner_client.post(
        TRANSACTIONS,
        {"objectId": registry["solar"], "operationType": "DELETE", "changes": {"status": "deleted"}},
        format="json",
    )

    assert r.status_code == 200, r.json()
    assert r.json()["transaction"]["action"] == "delete"
    assert owner_client.get(f"{OBJECTS}/{registry['solar']}").json()["object"]["status"] == "deleted"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"operationType": "UPSERT", "changes": {}}, "operationType"),
        ({"operationType": "UPDATE"}, "changes"),
        ({"operationType": "UPDATE", "changes": ["x"]}, "changes"),
    ],
)
def test_an_invalid_operation_is_a_400(owner_client, registry, body, field):
    r = owner_client.post(TRANSACTIONS, {"objectId": registry["ana"], **body}, format="json")

    assert r.status_code == 400, r.json()
    assert field in r.json()["details"]
    assert LedgerTransaction.objects.filter(ledger_object_id=registry["ana"]).count() == 1


def test_an_operation_on_another_users_object_is_404(client_of, other_user, registry):
    r = client_of(other_user).post(
        TRANSACTIONS, {"objectId": registry["ana"], "operationType": "UPDATE", "changes": {"x": 1}}, format="json"
    )

    assert r.status_code == 404, r.json()
    assert r.json()["error"] == "not_found"
