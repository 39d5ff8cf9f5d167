"""POST /telemetry/api/v1/keys and the bearer key on every other endpoint."""

from __future__ import annotations

import pytest

from accounts.models import ApiKey, User
from accounts.services import api_key_revoke, secret_hash
from telemetry.models import TelemetryAccount, TelemetryKey

KEYS = "/telemetry/api/v1/keys"
STATS = "/telemetry/api/v1/users/me/stats"

pytestmark = pytest.mark.django_db


def test_a_new_address_gets_a_free_key_shown_once_and_stored_hashed(api_client):
    # when
    r = api_client.post(KEYS, {"email": "new@example.com"}, format="json")
    # then
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["apiKey"].startswith("ngb_live_")
    assert body["tier"] == "free"
    assert body["rateLimit"] == 100
    stored = ApiKey.objects.get()
    assert stored.product == "telemetry"
    assert stored.key_hash == secret_hash(body["apiKey"])
    assert body["apiKey"] not in {stored.prefix, stored.name}
    assert TelemetryAccount.objects.get().user.email == "new@example.com"


def test_the_same_address_again_gets_a_new_key_and_the_old_one_keeps_working(api_client):
    # given
    first = api_client.post(KEYS, {"email": "twice@example.com"}, format="json").json()["apiKey"]
    # when
    second = api_client.post(KEYS, {"email": "TWICE@example.com"}, format="json").json()["apiKey"]
    # then
    assert first != second
    assert User.objects.filter(email__iexact="twice@example.com").count() == 1
    assert TelemetryAccount.objects.count() == 1
    for key in (first, second):
        r = api_client.get(STATS, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_USER_ID="anon-abc123")
        assert r.status_code == 200, r.json()


def test_a_revoked_key_stops_working(api_client):
    # given
    key = api_client.post(KEYS, {"email": "gone@example.com"}, format="json").json()["apiKey"]
    api_key_revoke(api_key=ApiKey.objects.get(key_hash=secret_hash(key)))
    # when
    r = api_client.get(STATS, HTTP_AUTHORIZATION=f"Bearer {key}", HTTP_X_USER_ID="anon-abc123")
    # then
    assert r.status_code == 401, r.json()
    assert r.json() == {
        "success": False,
        "error": {"code": "UNAUTHORIZED", "message": "Invalid API key", "details": None},
    }


@pytest.mark.parametrize("email", ["", "not-an-address", "a@b", None])
def test_an_invalid_address_is_400(api_client, email):
    r = api_client.post(KEYS, {"email": email}, format="json")
    assert r.status_code == 400, r.json()
    assert r.json()["success"] is False
    assert "email" in r.json()["error"]["details"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer", "Bearer ngb_live_unknown", "Basic dXNlcjpwYXNz", "ngb_live_without_scheme"],
)
def test_a_missing_or_unknown_key_is_401(api_client, authorization):
    headers = {"HTTP_X_USER_ID": "anon-abc123"}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    r = api_client.get(STATS, **headers)
    assert r.status_code == 401, r.json()
    assert r.json()["success"] is False
    assert r.json()["error"]["code"] == "UNAUTHORIZED"
    assert r["WWW-Authenticate"].startswith("Bearer")


def test_asking_for_a_key_reads_no_credential_but_confirming_one_needs_its_key(api_client):
    # The keys viewset's two actions are identified differently (action_authentication_classes).
    # when: a key is asked for with a stale bearer, and a code is sent without one
    asked = api_client.post(KEYS, {"email": "stale@example.com"}, format="json", HTTP_AUTHORIZATION="Bearer ngb_live_x")
    confirmed = api_client.post(f"{KEYS}/confirm", {"code": "123456"}, format="json")
    # then
    assert asked.status_code == 201, asked.json()
    assert confirmed.status_code == 401, confirmed.json()
    assert confirmed.json()["error"]["code"] == "UNAUTHORIZED"


def test_options_on_a_route_is_identified_as_its_actions_are(api_client, free_key):
    # OPTIONS describes its route (core.viewsets.ApiViewSet.declared_for_action): the confirm route's
    # one action needs a key, so its description does too; asking for a key needs none.
    # when
    anonymous_confirm = api_client.options(f"{KEYS}/confirm")
    keyed_confirm = api_client.options(f"{KEYS}/confirm", HTTP_AUTHORIZATION=f"Bearer {free_key.raw_key}")
    anonymous_keys = api_client.options(KEYS)
    # then
    assert anonymous_confirm.status_code == 401, anonymous_confirm.json()
    assert anonymous_confirm.json()["error"]["code"] == "UNAUTHORIZED"
    assert keyed_confirm.status_code == 200, keyed_confirm.json()
    assert keyed_confirm.json()["name"] == "Confirm"
    assert anonymous_keys.status_code == 200, anonymous_keys.json()


def test_a_key_of_another_product_is_401(api_client, user):
    # given: a coder key of the same person
    from accounts.services import api_key_create

    raw = api_key_create(user=user, product="coder", key_prefix="ngb_live_").raw_key
    # when
    r = api_client.get(STATS, HTTP_AUTHORIZATION=f"Bearer {raw}", HTTP_X_USER_ID="anon-abc123")
    # then
    assert r.status_code == 401, r.json()


@pytest.mark.parametrize(
    "user_id",
    [None, "", "abc123", "anon-", "anon-abc", "anon-ABC123", "anon-abc_123", "anon-" + "a" * 60, "user-abc123"],
)
def test_a_missing_or_malformed_user_id_is_400(api_client, free_key, user_id):
    headers = free_key.headers()
    del headers["HTTP_X_USER_ID"]
    if user_id is not None:
        headers["HTTP_X_USER_ID"] = user_id
    r = api_client.get(STATS, **headers)
    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "INVALID_USER_ID"


@pytest.mark.parametrize("user_id", ["anon-abc123", "anon-0f3c9e2a-77b1-4c1e-9d2a-1f2e3d4c5b6a", "anon-" + "a" * 59])
def test_well_formed_user_ids_are_accepted(api_client, free_key, user_id):
    r = api_client.get(STATS, **free_key.headers(user_id))
    assert r.status_code == 200, r.json()


def test_a_key_issued_for_a_pro_account_answers_at_the_free_tier_until_staff_confirm_it(api_client, pro_key):
    # given: anyone can ask a key for the pro account's address
    r = api_client.post(KEYS, {"email": "pro@example.com"}, format="json")
    assert r.status_code == 201, r.json()
    assert r.json()["tier"] == "free"
    unconfirmed = TelemetryKey.objects.get(api_key__key_hash=secret_hash(r.json()["apiKey"]))
    # then
    assert unconfirmed.confirmed is False
    assert unconfirmed.account == pro_key.account
    headers = {"HTTP_AUTHORIZATION": f"Bearer {r.json()['apiKey']}", "HTTP_X_USER_ID": "anon-abc123"}
    limited = api_client.get("/telemetry/api/v1/patterns?limit=5000", **headers)
    assert limited.status_code == 200, limited.json()
    assert limited["X-RateLimit-Limit"] == "100"
