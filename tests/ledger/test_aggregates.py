"""GET /api/ledger/aggregates."""

from datetime import timedelta

import pytest
from django.utils import timezone

from ledger.models import LedgerObject

pytestmark = pytest.mark.django_db

AGGREGATES = "/cerebro/api/ledger/aggregates"
OBJECTS = "/cerebro/api/ledger/objects"
TRANSACTIONS = "/cerebro/api/ledger/transactions"


@pytest.fixture
def ledger_in_use(owner_client, client_of, other_user):
    created = []
    for type_name, data in [
        ("contract", {"status": "active"}),
        ("contract", {"status": "completed"}),
        ("contract", {}),
        ("invoice", {"status": "active"}),
    ]:
        r = owner_client.post(OBJECTS, {"typeName": type_name, "data": data}, format="json")
        created.append(r.json()["object"])
    owner_client.post(TRANSACTIONS, {"objectId": created[0]["id"], "action": "note", "data": {}}, format="json")
    client_of(other_user).post(OBJECTS, {"typeName": "contract", "data": {"status": "active"}}, format="json")
    return created


def test_aggregates_count_the_users_objects_by_type_and_status(owner_client, ledger_in_use):
    r = owner_client.get(AGGREGATES)

    assert r.status_code == 200, r.json()
    assert r.json() == {
        "aggregates": {
            "totalObjects": 4,
            "totalTransactions": 5,
            "byType": {"contract": 3, "invoice": 1},
            "byStatus": {"active": 2, "completed": 1, "unspecified": 1},
        }
    }


def test_aggregates_filter_by_type(owner_client, ledger_in_use):
    r = owner_client.get(AGGREGATES, {"typeName": "invoice"})

    assert r.json()["aggregates"]["totalObjects"] == 1
    assert r.json()["aggregates"]["totalTransactions"] == 1


def test_aggregates_filter_by_date_range(owner_client, ledger_in_use):
    old = LedgerObject.objects.get(pk=ledger_in_use[1]["id"])
    LedgerObject.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    since = (timezone.now() - timedelta(days=30)).date().isoformat()

    r = owner_client.get(AGGREGATES, {"from": since, "to": timezone.now().isoformat()})

    assert r.status_code == 200, r.json()
    assert r.json()["aggregates"]["totalObjects"] == 3
    assert "completed" not in r.json()["aggregates"]["byStatus"]


def test_aggregates_reject_a_malformed_date(owner_client):
    r = owner_client.get(AGGREGATES, {"from": "last tuesday"})

    assert r.status_code == 400, r.json()
    assert r.json()["error"] == "validation_error"


def test_aggregates_need_authentication(api_client):
    assert (r := api_client.get(AGGREGATES)).status_code == 401, r.content
