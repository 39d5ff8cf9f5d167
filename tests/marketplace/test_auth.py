"""Wallet sign-in (SIWE + personal_sign), refresh rotation, the marketplace-only token, rate limits."""

from datetime import UTC, datetime, timedelta

import pytest
from eth_account import Account
from rest_framework.test import APIClient

from tests.conftest import bearer_for
from tests.marketplace.conftest import API, sign, siwe_message

pytestmark = pytest.mark.django_db


def login(client, account, message=None, *, address=None):
    message = message or siwe_message(account.address)
    return client.post(
        f"{API}/auth/login",
        {"walletAddress": address or account.address, "signature": sign(account, message), "message": message},
        format="json",
    )


def test_login_with_a_signed_siwe_message_returns_tokens_and_the_user(api_client, wallet):
    # given a message signed by the wallet; when it signs in
    r = login(api_client, wallet)
    # then
    assert r.status_code == 200, r.json()
    body = r.json()
    assert set(body) == {"token", "refreshToken", "user", "expiresAt"}
    assert body["user"]["walletAddress"] == wallet.address
    assert body["user"]["totalDatasets"] == 0
    profile = api_client.get(f"{API}/users/profile", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert profile.status_code == 200, profile.json()
    assert profile.json()["user"]["id"] == body["user"]["id"]


def test_address_comparison_ignores_checksum_case(api_client, wallet):
    r = login(api_client, wallet, address=wallet.address.lower())
    assert r.status_code == 200, r.json()


def test_the_same_wallet_signs_in_as_the_same_user(api_client, wallet):
    first = login(api_client, wallet, siwe_message(wallet.address, nonce="nonceone1"))
    second = login(api_client, wallet, siwe_message(wallet.address, nonce="noncetwo2"))
    assert first.json()["user"]["id"] == second.json()["user"]["id"]


def test_a_replayed_message_is_refused(api_client, wallet):
    message = siwe_message(wallet.address)
    answer = login(api_client, wallet, message)
    assert answer.status_code == 200, answer.json()
    r = login(api_client, wallet, message)
    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "INVALID_SIGNATURE"


@pytest.mark.parametrize(
    "case",
    ["other_signer", "other_domain", "too_old", "expired", "future", "not_siwe", "bad_signature", "other_address"],
)
def test_bad_sign_ins_are_invalid_signature(api_client, wallet, case):
    now = datetime.now(UTC)
    message = siwe_message(wallet.address)
    signer = wallet
    signature = None
    if case == "other_signer":
        signer = Account.create()
    elif case == "other_domain":
        message = siwe_message(wallet.address, domain="evil.example")
    elif case == "too_old":
        message = siwe_message(wallet.address, issued_at=now - timedelta(minutes=11))
    elif case == "expired":
        message = siwe_message(wallet.address, expiration=now - timedelta(seconds=1))
    elif case == "future":
        message = siwe_message(wallet.address, issued_at=now + timedelta(minutes=5))
    elif case == "not_siwe":
        message = "please sign me in"
    elif case == "bad_signature":
        signature = "0x1234"
    elif case == "other_address":
        message = siwe_message(Account.create().address)
    r = api_client.post(
        f"{API}/auth/login",
        {"walletAddress": wallet.address, "signature": signature or sign(signer, message), "message": message},
        format="json",
    )
    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "INVALID_SIGNATURE"
    assert set(r.json()["error"]) == {"code", "message", "details", "timestamp"}


def test_domain_with_a_port_is_accepted_for_an_allowed_host(api_client, wallet):
    r = login(api_client, wallet, siwe_message(wallet.address, domain="localhost:3000"))
    assert r.status_code == 200, r.json()


def test_missing_fields_are_a_validation_error(api_client):
    r = api_client.post(f"{API}/auth/login", {"walletAddress": "0xabc"}, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_refresh_rotates_and_the_old_refresh_token_stops_working(api_client, wallet):
    tokens = login(api_client, wallet).json()
    r = api_client.post(f"{API}/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert r.status_code == 200, r.json()
    assert set(r.json()) == {"token", "refreshToken", "expiresAt"}
    reused = api_client.post(f"{API}/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert reused.status_code == 401, reused.json()


def test_refresh_with_garbage_is_unauthorized(api_client):
    r = api_client.post(f"{API}/auth/refresh", {"refreshToken": "nope"}, format="json")
    assert r.status_code == 401, r.json()
    assert r.json()["error"]["code"] == "UNAUTHORIZED"


def test_a_token_from_another_product_is_refused(user):
    client = APIClient()
    client.credentials(**bearer_for(user, "coder"))
    r = client.get(f"{API}/users/profile")
    assert r.status_code == 401, r.json()


def test_nonce_endpoint_gives_a_fresh_nonce(api_client):
    first = api_client.get(f"{API}/auth/nonce").json()
    second = api_client.get(f"{API}/auth/nonce").json()
    assert first["nonce"] != second["nonce"]
    assert first["domain"] == "localhost"


def test_auth_is_limited_to_ten_requests_a_minute(api_client):
    answers = [api_client.get(f"{API}/auth/nonce") for _ in range(11)]
    assert [a.status_code for a in answers[:10]] == [200] * 10, [a.json() for a in answers[:10]]
    assert answers[10].status_code == 429, answers[10].json()
    assert answers[10].json()["error"]["code"] == "RATE_LIMITED"
    assert answers[0]["X-RateLimit-Limit"] == "10"
