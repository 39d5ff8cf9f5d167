"""POST /api/ledger/objects (create and query) and GET /api/ledger/objects/:id."""

import uuid

import pytest

from ledger.models import LedgerObject
from tests.ledger.factories import LedgerObjectFactory

pytestmark = pytest.mark.django_db

OBJECTS = "/cerebro/api/ledger/objects"


def test_create_answers_the_object_with_its_owner_and_a_chain_head(owner_client, user):
    r = owner_client.post(
        OBJECTS, {"typeName": "contract", "data": {"title": "Service Agreement", "amount": 10000}}, format="json"
    )

    assert r.status_code == 200, r.json()
    body = r.json()["object"]
    assert uuid.UUID(body["id"])
    assert body["typeName"] == "contract"
    assert body["data"] == {"title": "Service Agreement", "amount": 10000}
    assert body["createdBy"] == str(user.pk)
    assert body["createdAt"].endswith("Z") and len(body["createdAt"]) == 24
    assert body["transactionCount"] == 1
    assert len(body["headHash"]) == 64
    assert r["X-RateLimit-Limit"] == "100"


def test_a_status_longer_than_its_column_is_refused_not_cut(owner_client):
    # it used to be cut to 100 characters: listed cut, and unfindable by what the client wrote
    too_long = owner_client.post(OBJECTS, {"typeName": "contract", "data": {"status": "s" * 101}}, format="json")
    assert too_long.status_code == 400, too_long.json()
    assert "status" in str(too_long.json())
    assert not LedgerObject.objects.exists()

    whole = owner_client.post(OBJECTS, {"typeName": "contract", "data": {"status": "s" * 100}}, format="json")
    assert whole.status_code == 200, whole.json()
    found = owner_client.post(OBJECTS, {"filter": {"status": "s" * 100}}, format="json")
    assert found.status_code == 200, found.json()
    assert [item["id"] for item in found.json()["objects"]] == [whole.json()["object"]["id"]]


def test_anonymous_request_is_401_in_the_spec_envelope(api_client):
    r = api_client.post(OBJECTS, {"typeName": "contract", "data": {}}, format="json")

    assert r.status_code == 401, r.json()
    assert r.json()["error"] == "authentication_error"
    assert "message" in r.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"data": {"a": 1}}, "typeName"),
        ({"typeName": "contract", "data": [1, 2]}, "data"),
        ({"typeName": "contract", "data": "text"}, "data"),
        ({"typeName": "has space", "data": {}}, "typeName"),
        ({"typeName": "contract", "data": {"bad": "nul\u0000byte"}}, "data"),
    ],
)
def test_invalid_create_is_a_validation_error_naming_the_field(owner_client, body, field):
    r = owner_client.post(OBJECTS, body, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"
    assert field in r.json()["details"]


def test_malformed_json_is_bad_request(owner_client):
    r = owner_client.post(OBJECTS, b"{not json", content_type="application/json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "bad_request"


def test_query_with_a_filter_returns_only_matching_objects_of_the_user(owner_client, user, other_user):
    for data in ({"status": "signed", "currency": "USD"}, {"status": "draft", "currency": "USD"}):
        LedgerObjectFactory(owner=user, type_name="contract", data=data)
    LedgerObjectFactory(owner=user, type_name="invoice", data={"status": "signed"})
    LedgerObjectFactory(owner=other_user, type_name="contract", data={"status": "signed"})

    r = owner_client.post(
        OBJECTS, {"filter": {"typeName": "contract", "data": {"status": "signed", "currency": "USD"}}}, format="json"
    )

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["total"] == 1 and body["hasMore"] is False
    assert body["objects"][0]["data"] == {"status": "signed", "currency": "USD"}


def test_query_by_status_and_date_range_pages_with_has_more(owner_client, user):
    for n in range(3):
        LedgerObjectFactory(owner=user, type_name="contract", data={"status": "active", "n": n})

    r = owner_client.post(
        OBJECTS,
        {"filter": {"status": "active", "createdFrom": "2000-01-01", "createdTo": "2999-12-31"}, "limit": 2},
        format="json",
    )

    assert r.status_code == 200, r.json()
    assert r.json()["total"] == 3 and r.json()["hasMore"] is True
    assert [o["data"]["n"] for o in r.json()["objects"]] == [2, 1]


def test_query_rejects_nested_filter_values(owner_client):
    r = owner_client.post(OBJECTS, {"filter": {"data": {"party": {"name": "x"}}}}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"


@pytest.mark.parametrize(
    "condition", [{"gt": 2**63}, {"lte": -(2**63) - 1}, {"in": [1, 2**64]}, {"gte": 10**400}], ids=str
)
def test_query_refuses_an_integer_no_database_compares(owner_client, user, condition):
    # SQLite compares with 64-bit integers only: such an operand was an OverflowError (a 500).
    LedgerObjectFactory(owner=user, type_name="invoice", data={"amount": 2**70})

    r = owner_client.post(OBJECTS, {"filter": {"data": {"amount": condition}}}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"
    assert "2**63" in r.json()["message"]


def test_query_compares_the_largest_64_bit_integers_and_decimals(owner_client, user):
    LedgerObjectFactory(owner=user, type_name="invoice", data={"amount": 2**62})

    r = owner_client.post(OBJECTS, {"filter": {"data": {"amount": {"lt": 2**63 - 1, "gt": -1e30}}}}, format="json")

    assert r.status_code == 200, r.json()
    assert r.json()["total"] == 1


def test_query_runs_a_fixed_number_of_queries(owner_client, user, django_assert_max_num_queries):
    for n in range(15):
        LedgerObjectFactory(owner=user, type_name="contract", data={"n": n})

    with django_assert_max_num_queries(6):
        r = owner_client.post(OBJECTS, {"filter": {"typeName": "contract"}, "limit": 100}, format="json")

    assert r.status_code == 200, r.json()
    assert len(r.json()["objects"]) == 15


def test_retrieve_answers_own_object_and_404_for_foreign_or_unknown(
    owner_client, client_of, other_user, contract_created
):
    own = owner_client.get(f"{OBJECTS}/{contract_created['id']}")
    foreign = client_of(other_user).get(f"{OBJECTS}/{contract_created['id']}")
    unknown = owner_client.get(f"{OBJECTS}/{uuid.uuid4()}")

    assert own.status_code == 200, own.json()
    assert own.json()["object"]["id"] == contract_created["id"]
    assert foreign.status_code == 404, foreign.json()
    assert foreign.json()["error"] == "not_found"
    assert unknown.status_code == 404, unknown.json()


def test_create_with_an_idempotency_key_creates_once(owner_client):
    body = {"typeName": "contract", "data": {"title": "once"}}

    first = owner_client.post(OBJECTS, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    again = owner_client.post(OBJECTS, body, format="json", HTTP_IDEMPOTENCY_KEY="create-1")
    listed = owner_client.post(OBJECTS, {"filter": {}}, format="json")

    assert first.status_code == 200, first.json()
    assert again.status_code == 200, again.json()
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert listed.json()["total"] == 1


def test_an_out_of_range_number_anywhere_in_an_idempotent_create_is_a_400(owner_client):
    body = '{"typeName": "contract", "data": {"amount": 1}, "note": 1e400}'

    r = owner_client.generic("POST", OBJECTS, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "bad_request"
    assert "out of range" in r.json()["message"]
    assert not LedgerObject.objects.exists()
