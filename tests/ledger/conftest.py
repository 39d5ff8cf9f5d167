import pytest


@pytest.fixture
def api_product() -> str:
    """``client_of`` and ``signed_in`` (tests/conftest.py) sign in to cerebro, which the ledger is part of."""
    return "cerebro"


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
