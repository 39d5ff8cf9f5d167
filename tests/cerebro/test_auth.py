"""Signing in to the minicontratos API: NextAuth v4 session cookies, bearer tokens, ping."""

import base64
import json
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.identity import nextauth
from accounts.models import AuthSession, Identity
from tests.cerebro.conftest import NEXTAUTH_SECRET, nextauth_cookie
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

HISTORY = "/cerebro/api/history"


def test_key_derivation_matches_nextauth_v4():
    # HKDF-SHA256(ikm=secret, salt="", info="NextAuth.js Generated Encryption Key", 32 bytes), computed
    # independently with the primitives of RFC 5869.
    import hashlib
    import hmac

    prk = hmac.new(b"\x00" * 32, b"secret", hashlib.sha256).digest()
    okm = hmac.new(prk, b"NextAuth.js Generated Encryption Key" + b"\x01", hashlib.sha256).digest()

    assert nextauth.derive_encryption_key("secret") == okm


def test_a_nextauth_cookie_with_a_verified_email_signs_in_the_user_with_that_verified_email(client):
    person = UserFactory(email="ana@example.com", email_verified_at=timezone.now())
    client.cookies["next-auth.session-token"] = nextauth_cookie(
        {"sub": "oauth-123", "email": "ana@example.com", "email_verified": True}
    )

    r = client.get(HISTORY)

    assert r.status_code == 200, r.json()
    assert Identity.objects.get(provider="nextauth", subject="oauth-123").user == person


def test_a_session_address_the_app_does_not_vouch_for_links_nothing(client):
    # given an account whose owner verified ana@example.com, and an app session that merely says
    # "ana@example.com" (the minicontratos app registers any address with a password, unconfirmed)
    person = UserFactory(email="ana@example.com", email_verified_at=timezone.now())
    client.cookies["authjs.session-token"] = nextauth.encode_session_token(
        {"sub": "u-1", "id": "u-1", "type": "regular", "email": "ana@example.com", "exp": int(time.time()) + 600},
        NEXTAUTH_SECRET,
        cookie_name="authjs.session-token",
    )

    r = client.get(HISTORY)

    assert r.status_code == 200, r.json()
    assert Identity.objects.get(provider="nextauth", subject="u-1").user != person


def test_a_deployment_may_declare_its_apps_addresses_verified(client, settings):
    settings.NEXTAUTH_EMAILS_VERIFIED = True
    person = UserFactory(email="ana@example.com", email_verified_at=timezone.now())
    client.cookies["next-auth.session-token"] = nextauth_cookie({"sub": "oauth-9", "email": "ana@example.com"})

    assert (r := client.get(HISTORY)).status_code == 200, r.content
    assert Identity.objects.get(provider="nextauth", subject="oauth-9").user == person


@pytest.mark.parametrize("cookie_name", ["authjs.session-token", "__Secure-authjs.session-token"])
def test_an_authjs_v5_session_cookie_signs_in(client, cookie_name):
    # given the session the minicontratos app (Auth.js v5, next-auth 5 beta) sets: A256CBC-HS512,
    # the key derived with the cookie name as salt, its thumbprint as kid, and the app's claims
    claims = {"name": None, "email": "guest-1712", "sub": "7f0c", "id": "7f0c", "type": "guest"}
    token = nextauth.encode_session_token(
        {**claims, "exp": int(time.time()) + 600}, NEXTAUTH_SECRET, cookie_name=cookie_name
    )
    header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    assert header["enc"] == "A256CBC-HS512" and header["alg"] == "dir" and header["kid"]

    client.cookies[cookie_name + ".0"] = token[:60]
    client.cookies[cookie_name + ".1"] = token[60:]
    r = client.get(HISTORY)

    assert r.status_code == 200, r.json()
    identity = Identity.objects.get(provider="nextauth", subject="7f0c")
    assert identity.user.email is None  # a guest's "guest-<n>" is not an address


def test_an_authjs_cookie_sealed_for_another_cookie_name_is_refused(client):
    # the v5 key depends on the cookie name (the HKDF salt): a token moved to another name is refused
    token = nextauth.encode_session_token(
        {"sub": "s", "exp": int(time.time()) + 600}, NEXTAUTH_SECRET, cookie_name="__Secure-authjs.session-token"
    )
    client.cookies["authjs.session-token"] = token

    r = client.get(HISTORY)

    assert r.status_code == 401, r.json()


def test_authjs_key_derivation_matches_rfc_5869(client):
    # HKDF-SHA256(ikm=secret, salt=cookie name, info="Auth.js Generated Encryption Key (<name>)", 64 bytes)
    import hashlib
    import hmac

    name = b"authjs.session-token"
    prk = hmac.new(name, b"secret", hashlib.sha256).digest()
    info = b"Auth.js Generated Encryption Key (" + name + b")"
    first = hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
    second = hmac.new(prk, first + info + b"\x02", hashlib.sha256).digest()

    assert nextauth.derive_authjs_key("secret", name.decode(), "A256CBC-HS512") == first + second


def test_the_secure_cookie_name_and_chunked_cookies_work(client):
    token = nextauth_cookie({"sub": "s-2", "email": "bo@example.com", "name": "Bo"})
    client.cookies["__Secure-next-auth.session-token.0"] = token[:40]
    client.cookies["__Secure-next-auth.session-token.1"] = token[40:]

    r = client.get(HISTORY)

    assert r.status_code == 200, r.json()
    assert Identity.objects.get(subject="s-2").user.display_name == "Bo"


@pytest.mark.parametrize(
    "token",
    [
        nextauth_cookie({"sub": "x", "email": "x@example.com"}, secret="another-secret"),
        nextauth.encode_session_token(
            {"sub": "x", "email": "x@example.com", "exp": int(time.time()) - 60}, NEXTAUTH_SECRET
        ),
        "not.a.jwe",
        "a.b.c.d.e",
    ],
    ids=["wrong-secret", "expired", "garbage", "malformed"],
)
def test_an_untrustworthy_cookie_is_401_in_the_envelope(client, token):
    client.cookies["next-auth.session-token"] = token

    r = client.get(HISTORY)

    assert r.status_code == 401, r.json()
    assert r.json()["error"] == "authentication_error"


def test_repeated_bad_cookies_hit_the_auth_rate_limit(client):
    client.cookies["next-auth.session-token"] = "a.b.c.d.e"

    statuses = [client.get(HISTORY).status_code for _ in range(6)]

    assert statuses[:5] == [401] * 5
    assert statuses[5] == 429


def test_cookie_writes_from_a_foreign_origin_are_refused(client):
    client.cookies["next-auth.session-token"] = nextauth_cookie({"sub": "o-1", "email": "o@example.com"})

    foreign = client.post(
        "/cerebro/api/memory/upsert",
        {"key": "k", "content": {}},
        content_type="application/json",
        HTTP_ORIGIN="https://evil.example",
    )
    same_site = client.post(
        "/cerebro/api/memory/upsert",
        {"key": "k", "content": {}},
        content_type="application/json",
        HTTP_ORIGIN="http://testserver",
    )

    assert foreign.status_code == 403, foreign.json()
    assert same_site.status_code == 200, same_site.json()


def test_a_bearer_token_works_too(signed_in):
    assert (r := signed_in.get(HISTORY)).status_code == 200, r.content


@pytest.fixture
def session_issued(user):
    return account_services.auth_session_start(user=user, product="cerebro")


def test_a_bearer_token_of_a_revoked_session_is_refused_at_once(client, session_issued):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {session_issued.tokens.access}"
    assert (response := client.get(HISTORY)).status_code == 200, response.content

    account_services.auth_session_revoke(session=session_issued.session)
    r = client.get(HISTORY)

    assert r.status_code == 401, r.json()
    assert r.json()["error"] == "authentication_error"


def test_a_bearer_token_of_an_expired_session_or_a_disabled_user_is_refused(client, session_issued, user):
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {session_issued.tokens.access}"
    AuthSession.objects.filter(pk=session_issued.session.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    expired = client.get(HISTORY)
    AuthSession.objects.filter(pk=session_issued.session.pk).update(expires_at=timezone.now() + timedelta(days=1))
    user.is_active = False
    user.save(update_fields=["is_active"])
    disabled = client.get(HISTORY)

    assert expired.status_code == 401, expired.json()
    assert disabled.status_code == 401, disabled.json()


def test_the_bearer_check_reads_the_session_and_its_user_in_one_query(signed_in, django_assert_num_queries):
    signed_in.get(HISTORY)  # warm: anything read once per process

    with django_assert_num_queries(3):  # the session with its user; the history page and its count
        r = signed_in.get(HISTORY)

    assert r.status_code == 200, r.json()


def test_no_credentials_is_401(client):
    r = client.get(HISTORY)

    assert r.status_code == 401, r.json()
    assert r.json() == {"error": "authentication_error", "message": r.json()["message"]}


def test_ping_needs_no_authentication(client):
    r = client.get("/cerebro/ping")

    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "ok"
    assert r.json()["timestamp"].endswith("Z")
    assert r.json()["version"]
