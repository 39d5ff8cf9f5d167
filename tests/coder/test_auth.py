"""Sign-in with Clerk, the three ways to authenticate, refresh rotation, logout, API keys."""

from __future__ import annotations

import re
import time

import httpx
import jwt
import pytest
import respx
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Identity
from coder import conf
from coder.models import CoderAccount, CreditTransaction
from tests.coder.conftest import CLERK_ISSUER, CLERK_PARTY
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/coder/api/auth/login"
REFRESH = "/coder/api/auth/refresh"
LOGOUT = "/coder/api/auth/logout"
ME = "/coder/api/users/me"
API_KEYS = "/coder/api/users/me/api-keys"
HMAC_SECRET = "a-shared-secret-of-at-least-32-bytes!"


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def login(api_client, token: str):
    return api_client.post(LOGIN, {"clerkToken": token}, format="json")


# --- Login -----------------------------------------------------------------------------------------


def test_login_creates_the_user_with_welcome_credits_and_answers_the_spec_shape(
    api_client, clerk_configured, clerk_token
):
    # Given a valid Clerk token of a new person
    token = clerk_token(sub="user_new", email="grace@example.com", name="Grace Hopper")

    # When they sign in
    r = login(api_client, token)

    # Then the spec's envelope carries user, token, refreshToken and sessionId
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["success"] is True and body["error"] is None
    data = body["data"]
    assert set(data) == {"user", "token", "refreshToken", "sessionId"}
    user = data["user"]
    assert user["email"] == "grace@example.com" and user["displayName"] == "Grace Hopper"
    assert user["credits"] == conf.SIGNUP_CREDITS and user["subscriptionTier"] == "free"
    assert user["isGithubConnected"] is False
    # And the welcome credits are a ledger line
    line = CreditTransaction.objects.get(user_id=user["id"])
    assert (line.type, line.amount, line.balance_after) == ("credit", conf.SIGNUP_CREDITS, conf.SIGNUP_CREDITS)
    assert Identity.objects.filter(provider="clerk", subject="user_new", user_id=user["id"]).exists()


def test_login_sets_the_session_cookie_httponly_lax(api_client, clerk_configured, clerk_token, settings):
    settings.PRODUCTION = True

    r = login(api_client, clerk_token())

    assert r.status_code == 200, r.json()
    cookie = r.cookies[conf.SESSION_COOKIE_NAME]
    assert cookie.value == r.json()["data"]["sessionId"]
    assert cookie["httponly"] and cookie["secure"] and cookie["samesite"] == "Lax"
    assert cookie["path"] == "/coder"


def test_login_cookie_is_not_secure_on_a_plain_http_development_server(
    api_client, clerk_configured, clerk_token, settings
):
    settings.PRODUCTION = False

    r = login(api_client, clerk_token())

    assert r.status_code == 200, r.json()
    assert not r.cookies[conf.SESSION_COOKIE_NAME]["secure"]


def test_login_matches_an_existing_user_by_a_verified_email(api_client, clerk_configured, clerk_token):
    existing = UserFactory(email="Ada@Example.com", email_verified_at=timezone.now())

    r = login(api_client, clerk_token(sub="user_ada", email="ada@example.com", email_verified=True))

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["user"]["id"] == str(existing.pk)


def test_login_with_an_address_clerk_does_not_verify_links_nothing(api_client, clerk_configured, clerk_token):
    existing = UserFactory(email="ada@example.com", email_verified_at=timezone.now())

    r = login(api_client, clerk_token(sub="user_ada2", email="ada@example.com", email_verified=False))

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["user"]["id"] != str(existing.pk)


def test_second_login_does_not_grant_welcome_credits_again(api_client, clerk_configured, clerk_token):
    first = login(api_client, clerk_token(sub="user_twice"))
    second = login(api_client, clerk_token(sub="user_twice"))

    assert first.status_code == second.status_code == 200, (first.json(), second.json())
    user_id = second.json()["data"]["user"]["id"]
    assert CreditTransaction.objects.filter(user_id=user_id).count() == 1
    assert CoderAccount.objects.get(user_id=user_id).credits == conf.SIGNUP_CREDITS


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda mint: mint(exp=int(time.time()) - 60), id="expired"),
        pytest.param(lambda mint: mint(nbf=int(time.time()) + 600), id="not-yet-valid"),
        pytest.param(lambda mint: mint(iss="https://evil.example"), id="wrong-issuer"),
        pytest.param(lambda mint: mint(azp="https://evil.example"), id="wrong-party"),
        pytest.param(lambda mint: mint(azp=None), id="no-party"),
        pytest.param(
            lambda mint: mint(key=rsa.generate_private_key(public_exponent=65537, key_size=2048)), id="wrong-key"
        ),
        pytest.param(
            lambda mint: jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, HMAC_SECRET, algorithm="HS256"),
            id="hs256",
        ),
        pytest.param(lambda mint: mint()[:-10] + "AAAAAAAAAA", id="tampered"),
        pytest.param(lambda mint: "not-a-jwt", id="garbage"),
        pytest.param(
            lambda mint: jwt.encode({"sub": "x", "exp": int(time.time()) + 60}, None, algorithm="none"),
            id="alg-none",
        ),
    ],
)
def test_invalid_clerk_tokens_are_refused(api_client, clerk_configured, clerk_token, make_token):
    r = login(api_client, make_token(clerk_token))

    assert r.status_code == 401, r.json()
    assert r.json()["success"] is False and r.json()["error"]["code"] == "UNAUTHORIZED"


def test_token_without_subject_is_refused(api_client, clerk_configured, clerk_private_key):
    token = jwt.encode(
        {"exp": int(time.time()) + 60, "iss": CLERK_ISSUER, "azp": CLERK_PARTY}, clerk_private_key, algorithm="RS256"
    )

    r = login(api_client, token)

    assert r.status_code == 401, r.json()


@pytest.mark.parametrize("unset", ["CLERK_ISSUER", "CLERK_AUTHORIZED_PARTIES"])
def test_a_real_clerk_key_without_issuer_or_party_accepts_no_token(
    api_client, clerk_configured, clerk_token, settings, unset
):
    # given a Clerk key, but no issuer or no authorized party configured
    setattr(settings, unset, "" if unset == "CLERK_ISSUER" else [])

    # when a token that would otherwise verify arrives, then it is not accepted
    r = login(api_client, clerk_token(iss="https://any-instance.clerk.accounts.dev"))

    assert r.status_code == 503, r.json()


def test_missing_clerk_token_is_a_validation_error(api_client, clerk_configured):
    r = api_client.post(LOGIN, {}, format="json")

    assert r.status_code == 400, r.json()
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert "clerkToken" in r.json()["error"]["details"]


def test_jwks_keys_are_fetched_cached_and_refetched_for_a_new_kid(api_client, settings, clerk_token, clerk_private_key):
    # Given Clerk's JWKS endpoint serving our key under kid "ins_1"
    settings.CLERK_JWT_PUBLIC_KEY = ""
    settings.CLERK_JWKS_URL = "https://clerk.example.test/.well-known/jwks.json"
    settings.CLERK_ISSUER = CLERK_ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [CLERK_PARTY]
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(clerk_private_key.public_key(), as_dict=True)
    rotated_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rotated_jwk = jwt.algorithms.RSAAlgorithm.to_jwk(rotated_key.public_key(), as_dict=True)
    documents = [
        {"keys": [{**jwk, "kid": "ins_1", "use": "sig", "alg": "RS256"}]},
        {"keys": [{**jwk, "kid": "ins_1"}, {**rotated_jwk, "kid": "ins_2", "alg": "RS256"}]},
    ]
    with respx.mock(assert_all_called=False) as router:
        route = router.get(settings.CLERK_JWKS_URL).mock(
            side_effect=[httpx.Response(200, json=documents[0]), httpx.Response(200, json=documents[1])]
        )
        # When two logins use the known kid
        first = login(api_client, clerk_token(sub="a", headers={"kid": "ins_1"}))
        second = login(api_client, clerk_token(sub="b", headers={"kid": "ins_1"}))
        assert first.status_code == 200, first.json()
        assert second.status_code == 200, second.json()
        # Then the JWKS was fetched once
        assert route.call_count == 1
        # When a token signed by a rotated key arrives, the JWKS is refetched and it verifies
        r = login(api_client, clerk_token(sub="c", key=rotated_key, headers={"kid": "ins_2"}))
        assert r.status_code == 200, r.json()
        assert route.call_count == 2
        # And an unknown kid does not make another fetch within the minute
        r = login(api_client, clerk_token(sub="d", headers={"kid": "ins_9"}))
        assert r.status_code == 401, r.json()
        assert route.call_count == 2


def test_clerk_not_configured_in_production_is_503(api_client, settings, clerk_token):
    settings.CLERK_JWT_PUBLIC_KEY = ""
    settings.CLERK_JWKS_URL = ""
    settings.PRODUCTION = True

    r = login(api_client, clerk_token())

    assert r.status_code == 503, r.json()


def test_dev_token_command_signs_in_on_a_development_server(api_client, settings, tmp_path, capsys):
    # Given a development server (not production, no debug pages) without any Clerk key
    settings.CLERK_JWT_PUBLIC_KEY = ""
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_ISSUER = ""
    settings.CLERK_AUTHORIZED_PARTIES = []
    settings.PRODUCTION = False
    settings.DEBUG = False
    settings.CLERK_DEV_KEY_PATH = tmp_path / "dev-key.pem"

    # When the management command mints a token
    call_command("coder_dev_clerk_token", "--email", "dev@example.com")
    token = capsys.readouterr().out.strip()

    # Then the dev server accepts it, and the key file is private to its owner
    r = login(api_client, token)
    assert r.status_code == 200, r.json()
    assert r.json()["data"]["user"]["email"] == "dev@example.com"
    assert (tmp_path / "dev-key.pem").stat().st_mode & 0o077 == 0

    # And its claims are a real Clerk token's: the development issuer and authorized party
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["iss"] == "https://clerk.development.invalid" and claims["azp"] == "http://localhost:3000"
    assert claims["email_verified"] is True

    # And a production server does not trust the development key
    settings.PRODUCTION = True
    refused = login(api_client, token)
    assert refused.status_code == 503, refused.json()


# --- The three credentials ---------------------------------------------------------------------------


@pytest.fixture
def clerk_session(api_client, clerk_configured, clerk_token):
    """The answer of a Clerk sign-in (its tokens and user), with the session cookie dropped."""
    r = login(api_client, clerk_token(sub="user_session"))
    assert r.status_code == 200, r.json()
    api_client.cookies.clear()
    return r.json()["data"]


def test_bearer_token_authenticates(api_client, clerk_session):
    r = api_client.get(ME, **bearer(clerk_session["token"]))

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["id"] == clerk_session["user"]["id"]


def test_session_cookie_authenticates(api_client, clerk_session):
    api_client.cookies[conf.SESSION_COOKIE_NAME] = clerk_session["sessionId"]

    r = api_client.get(ME)

    assert r.status_code == 200, r.json()
    assert r.json()["data"]["id"] == clerk_session["user"]["id"]


def test_api_key_lifecycle(api_client, clerk_session):
    # Given a key created by the signed-in user
    created = api_client.post(API_KEYS, {"name": "ci"}, format="json", **bearer(clerk_session["token"]))
    assert created.status_code == 201, created.json()
    raw_key = created.json()["data"]["key"]
    assert raw_key.startswith("ac_")

    # Then it authenticates, and the list shows it without the key itself
    me = api_client.get(ME, HTTP_X_API_KEY=raw_key)
    assert me.status_code == 200, me.json()
    listed = api_client.get(API_KEYS, **bearer(clerk_session["token"])).json()["data"]
    assert [key["name"] for key in listed] == ["ci"] and "key" not in listed[0]

    # When it is revoked, it stops working
    key_id = created.json()["data"]["id"]
    revoked = api_client.delete(f"{API_KEYS}/{key_id}", **bearer(clerk_session["token"]))
    assert revoked.status_code == 200, revoked.json()
    r = api_client.get(ME, HTTP_X_API_KEY=raw_key)
    assert r.status_code == 401, r.json()


def test_an_api_key_cannot_create_or_revoke_api_keys(api_client, clerk_session):
    # Given a key made by the signed-in user (say it leaked from a CI log)
    created = api_client.post(API_KEYS, {"name": "ci"}, format="json", **bearer(clerk_session["token"]))
    assert created.status_code == 201, created.json()
    raw_key, key_id = created.json()["data"]["key"], created.json()["data"]["id"]

    # When the key itself is used to list, mint or revoke keys
    listed = api_client.get(API_KEYS, HTTP_X_API_KEY=raw_key)
    minted = api_client.post(API_KEYS, {"name": "thief"}, format="json", HTTP_X_API_KEY=raw_key)
    revoked = api_client.delete(f"{API_KEYS}/{key_id}", HTTP_X_API_KEY=raw_key)

    # Then each is a 401, and the owner still has that one key, active
    assert listed.status_code == 401, listed.json()
    assert minted.status_code == 401, minted.json()
    assert revoked.status_code == 401, revoked.json()
    assert minted.json()["error"]["code"] == "UNAUTHORIZED"
    keys = api_client.get(API_KEYS, **bearer(clerk_session["token"])).json()["data"]
    assert [(key["name"], key["revokedAt"]) for key in keys] == [("ci", None)]


def test_an_api_key_cannot_update_the_profile_but_still_reads_it(api_client, clerk_session):
    created = api_client.post(API_KEYS, {"name": "ci"}, format="json", **bearer(clerk_session["token"]))
    raw_key = created.json()["data"]["key"]

    updated = api_client.put(ME, {"displayName": "Mallory"}, format="json", HTTP_X_API_KEY=raw_key)
    read = api_client.get(ME, HTTP_X_API_KEY=raw_key)

    assert updated.status_code == 401, updated.json()
    assert read.status_code == 200, read.json()
    assert read.json()["data"]["displayName"] != "Mallory"


def test_the_session_cookie_manages_api_keys(api_client, clerk_session):
    api_client.cookies[conf.SESSION_COOKIE_NAME] = clerk_session["sessionId"]

    r = api_client.get(API_KEYS)

    assert r.status_code == 200, r.json()


def test_another_users_api_key_cannot_be_revoked(api_client, clerk_session, other_user):
    from coder.services.auth import coder_api_key_create

    issued = coder_api_key_create(user=other_user)

    r = api_client.delete(f"{API_KEYS}/{issued.api_key.pk}", **bearer(clerk_session["token"]))

    assert r.status_code == 404, r.json()
    assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"


def test_api_key_of_another_product_is_refused(api_client, clerk_session, user):
    from accounts.services import api_key_create

    issued = api_key_create(user=user, product="telemetry", key_prefix="tk_")

    r = api_client.get(ME, HTTP_X_API_KEY=issued.raw_key)

    assert r.status_code == 401, r.json()


def test_token_of_another_api_is_refused(api_client, coder_user):
    from tests.conftest import bearer_for

    r = api_client.get(ME, **bearer_for(coder_user, "cerebro"))

    assert r.status_code == 401, r.json()


def test_no_credential_is_401_in_the_envelope(api_client, db):
    r = api_client.get(ME)

    assert r.status_code == 401, r.json()
    assert r.json() == {
        "success": False,
        "data": None,
        "error": {"code": "UNAUTHORIZED", "message": r.json()["error"]["message"], "details": None},
    }


# --- Refresh and logout ------------------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_then_fails(api_client, clerk_session):
    r = api_client.post(REFRESH, {"refreshToken": clerk_session["refreshToken"]}, format="json")

    assert r.status_code == 200, r.json()
    rotated = r.json()["data"]
    assert set(rotated) == {"token", "refreshToken"}
    assert rotated["refreshToken"] != clerk_session["refreshToken"]
    me = api_client.get(ME, **bearer(rotated["token"]))
    assert me.status_code == 200, me.json()
    # Reusing the old one is refused (and, being reuse, ends the session)
    again = api_client.post(REFRESH, {"refreshToken": clerk_session["refreshToken"]}, format="json")
    assert again.status_code == 401, again.json()


def test_refresh_token_of_another_api_is_refused(api_client, coder_user):
    from accounts.services import auth_session_start

    issued = auth_session_start(user=coder_user, product="cerebro")

    r = api_client.post(REFRESH, {"refreshToken": issued.tokens.refresh}, format="json")

    assert r.status_code == 401, r.json()


def test_logout_revokes_access_token_refresh_token_and_cookie(api_client, clerk_session):
    # Given a session used by bearer token
    r = api_client.post(LOGOUT, {}, format="json", **bearer(clerk_session["token"]))
    assert r.status_code == 200, r.json()
    assert r.json()["data"] == {"message": "Logged out successfully"}
    # And the cookie is cleared in the answer
    assert r.cookies[conf.SESSION_COOKIE_NAME].value == ""

    # Then the old access token, refresh token and cookie all get 401
    by_token = api_client.get(ME, **bearer(clerk_session["token"]))
    assert by_token.status_code == 401, by_token.json()
    refreshed = api_client.post(REFRESH, {"refreshToken": clerk_session["refreshToken"]}, format="json")
    assert refreshed.status_code == 401, refreshed.json()
    api_client.cookies[conf.SESSION_COOKIE_NAME] = clerk_session["sessionId"]
    by_cookie = api_client.get(ME)
    assert by_cookie.status_code == 401, by_cookie.json()


def test_logout_with_the_cookie_revokes_the_session(api_client, clerk_session):
    api_client.cookies[conf.SESSION_COOKIE_NAME] = clerk_session["sessionId"]

    r = api_client.post(LOGOUT, {}, format="json")

    assert r.status_code == 200, r.json()
    api_client.cookies.clear()
    me = api_client.get(ME, **bearer(clerk_session["token"]))
    assert me.status_code == 401, me.json()


def test_logout_with_another_products_refresh_token_leaves_that_session_alone(signed_in, coder_user):
    from accounts.services import auth_session_start

    # Given the same user signed in to cerebro too
    cerebro = auth_session_start(user=coder_user, product="cerebro")

    # When they sign out of Async Coder handing cerebro's refresh token
    r = signed_in.post(LOGOUT, {"refreshToken": cerebro.tokens.refresh}, format="json")

    # Then the Async Coder session ends, and cerebro's goes on
    assert r.status_code == 200, r.json()
    assert (me := signed_in.get(ME)).status_code == 401, me.json()
    cerebro.session.refresh_from_db()
    assert cerebro.session.revoked_at is None


# --- Rate limits -----------------------------------------------------------------------------------


def test_auth_endpoints_allow_5_requests_per_15_minutes_with_iso_reset(api_client, clerk_configured):
    answers = [api_client.post(LOGIN, {"clerkToken": "garbage"}, format="json") for _ in range(6)]

    assert [a.status_code for a in answers] == [401] * 5 + [429], answers[-1].json()
    limited = answers[-1]
    assert limited.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert limited["X-RateLimit-Limit"] == "5" and limited["X-RateLimit-Remaining"] == "0"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", limited["X-RateLimit-Reset"])
    assert int(limited["Retry-After"]) > 0


def test_general_limit_is_100_per_15_minutes(signed_in):
    answers = [signed_in.get(ME) for _ in range(101)]

    assert [a.status_code for a in answers] == [200] * 100 + [429], answers[-1].json()
