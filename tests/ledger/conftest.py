import pytest
from rest_framework.test import APIClient

from tests.conftest import bearer_for


@pytest.fixture
def client_of():
    """An API client signed in as the given user (bearer token)."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(**bearer_for(user, product="cerebro"))
        return client

    return make


@pytest.fixture
def owner_client(client_of, user):
    return client_of(user)


@pytest.fixture
def contract_created(owner_client):
    r = owner_client.post(
        "/cerebro/api/ledger/objects",
        {"typeName": "contract", "data": {"title": "Service Agreement", "amount": 10000, "currency": "USD"}},
        format="json",
    )
    assert r.status_code == 200, r.json()
    return r.json()["object"]
