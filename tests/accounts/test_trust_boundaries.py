"""Issue 14's holes, probed through the APIs as an attacker would: each fails on the code before it.

- A token (access, refresh, download link) issued for one product is refused by every other.
- An address typed into a profile links nothing until its owner confirms it from the mailbox;
  providers' addresses link only when the provider asserts them as verified.
"""

from __future__ import annotations

import re
import time

import pytest
from django.core import mail, signing
from django.utils import timezone
from eth_account import Account
from rest_framework.test import APIClient

from accounts import services as account_services
from accounts.identity.clerk import dev_token_mint
from accounts.identity.nextauth import encode_session_token
from accounts.models import Identity, User
from accounts.tokens import download_link_issue
from core import storage
from tests.conftest import bearer_for
from tests.factories import UserFactory
from tests.marketplace.conftest import sign, siwe_message
from tests.marketplace.factories import DatasetFactory

pytestmark = pytest.mark.django_db

MARKETPLACE = "/marketplace/v1"
NEXTAUTH_SECRET = "trust-boundaries-nextauth-secret-0123456789"


@pytest.fixture(autouse=True)
def _local_keys(settings, tmp_path):
    """A development server: its own Clerk development key, the NextAuth secret, media in tmp."""
    settings.PRODUCTION = False
    settings.CLERK_JWT_PUBLIC_KEY = ""
    settings.CLERK_JWKS_URL = ""
    settings.CLERK_ISSUER = ""
    settings.CLERK_AUTHORIZED_PARTIES = []
    settings.CLERK_DEV_KEY_PATH = tmp_path / "clerk-dev-key.pem"
    settings.NEXTAUTH_SECRET = NEXTAUTH_SECRET
    settings.MEDIA_ROOT = tmp_path / "media"


def wallet_sign_in(client: APIClient, wallet) -> dict:
    message = siwe_message(wallet.address, nonce=f"n{time.time_ns()}")
    r = client.post(
        f"{MARKETPLACE}/auth/login",
        {"walletAddress": wallet.address, "signature": sign(wallet, message), "message": message},
        format="json",
    )
    assert r.status_code == 200, r.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {r.json()['token']}")
    return r.json()


def coder_sign_in(client: APIClient, *, subject: str, email: str, verified: bool = True) -> dict:
    token = dev_token_mint(subject=subject, email=email, email_verified=verified)
    r = client.post("/coder/api/auth/login", {"clerkToken": token}, format="json")
    assert r.status_code == 200, r.json()
    return r.json()["data"]


def cerebro_session_cookie(claims: dict) -> str:
    return encode_session_token(
        {"exp": int(time.time()) + 600, **claims}, NEXTAUTH_SECRET, cookie_name="authjs.session-token"
    )


# --- Tokens stay in their product -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/cerebro/api/history"),
        ("post", "/cerebro/api/memory/context"),
        ("get", "/cerebro/api/ledger/objects"),
        ("get", "/coder/api/users/me"),
        ("get", "/cerebro/api/account/identities"),
    ],
)
def test_a_marketplace_access_token_is_refused_by_cerebro_and_coder(method, path):
    # given a wallet user with a live marketplace session
    client = APIClient()
    wallet_sign_in(client, Account.create())

    # when the marketplace token is sent to another product's API, then it is refused
    r = getattr(client, method)(path, {}, format="json")

    assert r.status_code == 401, r.json()


@pytest.mark.parametrize("product", ["coder", "marketplace"])
def test_cerebro_accepts_only_its_own_bearer_tokens(user, product):
    client = APIClient()

    assert (response := client.get("/cerebro/api/history", **bearer_for(user, "cerebro"))).status_code == 200, (
        response.content
    )
    r = client.get("/cerebro/api/history", **bearer_for(user, product))
    assert r.status_code == 401, r.json()
    assert r.json()["error"] == "authentication_error"


def test_a_refresh_token_of_one_product_is_refused_by_another_and_stays_usable(user):
    client = APIClient()
    marketplace = account_services.auth_session_start(user=user, product="marketplace")

    r = client.post("/coder/api/auth/refresh", {"refreshToken": marketplace.tokens.refresh}, format="json")

    assert r.status_code == 401, r.json()
    again = client.post(f"{MARKETPLACE}/auth/refresh", {"refreshToken": marketplace.tokens.refresh}, format="json")
    assert again.status_code == 200, again.json()  # the refused attempt changed nothing


@pytest.fixture
def stored_file():
    return storage.save_bytes(b"secret,rows\n1,2\n")


def test_a_marketplace_download_link_is_refused_by_cerebros_download_path(client, stored_file):
    dataset = DatasetFactory()
    token, _ = download_link_issue(
        product="marketplace",
        cid=stored_file.cid,
        filename="d.csv",
        content_type="text/csv",
        ttl_seconds=60,
        subject=f"dataset:{dataset.pk}",
    )

    assert (response := client.get(f"{MARKETPLACE}/files/{token}")).status_code == 200, response.content
    r = client.get(f"/cerebro/api/files/download/{token}")
    assert r.status_code == 404, r.json()


def test_a_cerebro_download_link_is_refused_by_the_marketplace(client, stored_file):
    token, _ = download_link_issue(
        product="cerebro", cid=stored_file.cid, filename="d.csv", content_type="text/csv", ttl_seconds=60
    )

    assert (response := client.get(f"/cerebro/api/files/download/{token}")).status_code == 200, response.content
    r = client.get(f"{MARKETPLACE}/files/{token}")
    assert r.status_code == 403, r.json()


def test_a_download_link_that_names_no_product_is_refused_everywhere(client, stored_file):
    # a link as they were signed before links named their product
    payload = {"c": stored_file.cid, "n": "d.csv", "t": "text/csv", "e": int(time.time()) + 60}
    token = signing.dumps(payload, salt=storage.DOWNLOAD_TOKEN_SALT, compress=True)

    assert (r := client.get(f"/cerebro/api/files/download/{token}")).status_code == 404, r.content
    assert (r := client.get(f"{MARKETPLACE}/files/{token}")).status_code == 403, r.content


# --- Identities link only on verified addresses ------------------------------------------------------------


def test_an_address_typed_into_a_profile_never_takes_over_its_owners_sign_ins():
    # given an attacker's wallet account that claims the victim's address in its profile
    attacker = APIClient()
    attacker_id = wallet_sign_in(attacker, Account.create())["user"]["id"]
    r = attacker.put(f"{MARKETPLACE}/users/profile", {"email": "victim@example.com"}, format="json")
    assert r.status_code == 200, r.json()
    assert r.json()["user"]["email"] == "victim@example.com" and r.json()["user"]["emailVerified"] is False

    # when the real owner signs in to coder with Clerk (address verified by Clerk) and to cerebro
    victim_in_coder = coder_sign_in(APIClient(), subject="user_victim", email="victim@example.com")
    cerebro = APIClient()
    cerebro.cookies["authjs.session-token"] = cerebro_session_cookie(
        {"sub": "mc-victim", "email": "victim@example.com", "email_verified": True}
    )
    assert (response := cerebro.get("/cerebro/api/history")).status_code == 200, response.content

    # then neither sign-in reaches the attacker's account, and both are the victim's one account
    victim_id = victim_in_coder["user"]["id"]
    assert victim_id != attacker_id
    assert Identity.objects.get(provider="nextauth", subject="mc-victim").user_id == User.objects.get(pk=victim_id).pk
    assert not Identity.objects.filter(user_id=attacker_id).exclude(provider="wallet").exists()


def test_a_confirmed_profile_address_links_the_owners_verified_sign_ins(settings, django_capture_on_commit_callbacks):
    # given a wallet user who sets their address
    owner = APIClient()
    owner_id = wallet_sign_in(owner, Account.create())["user"]["id"]
    with django_capture_on_commit_callbacks(execute=True):
        r = owner.put(f"{MARKETPLACE}/users/profile", {"email": "Owner@Example.com"}, format="json")
    assert r.status_code == 200, r.json()

    # then, once the change commits, a confirmation link is mailed to that address
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"  # pytest-django's
    assert [message.to for message in mail.outbox] == [["Owner@Example.com"]]
    link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    assert link.startswith(f"{MARKETPLACE}/users/profile/email/confirm?token=")

    # when its owner follows it, the address is verified
    confirmed = APIClient().get(link)
    assert confirmed.status_code == 200, confirmed.json()
    assert confirmed.json() == {"email": "Owner@Example.com", "emailVerified": True}
    assert owner.get(f"{MARKETPLACE}/users/profile").json()["user"]["emailVerified"] is True

    # and a Clerk sign-in with that verified address joins the same account
    assert coder_sign_in(APIClient(), subject="user_owner", email="owner@example.com")["user"]["id"] == owner_id
    # while one whose address Clerk does not vouch for does not
    other = coder_sign_in(APIClient(), subject="user_other", email="owner@example.com", verified=False)
    assert other["user"]["id"] != owner_id


def test_a_confirmation_link_stops_working_once_the_address_changes(django_capture_on_commit_callbacks):
    client = APIClient()
    wallet_sign_in(client, Account.create())
    with django_capture_on_commit_callbacks(execute=True):
        client.put(f"{MARKETPLACE}/users/profile", {"email": "first@example.com"}, format="json")
    first_link = re.search(r"http://testserver(/\S+)", mail.outbox[0].body).group(1)
    client.put(f"{MARKETPLACE}/users/profile", {"email": "second@example.com"}, format="json")

    r = APIClient().get(first_link)

    assert r.status_code == 401, r.json()
    assert client.get(f"{MARKETPLACE}/users/profile").json()["user"]["emailVerified"] is False


def test_a_forged_or_other_products_confirmation_link_is_refused():
    user = UserFactory(email="x@example.com")
    other_product = account_services.email_confirmation_token(user=user, email="x@example.com", product="coder")

    for token in (other_product, other_product[:-3] + "abc", ""):
        r = APIClient().get(f"{MARKETPLACE}/users/profile/email/confirm", {"token": token})
        assert r.status_code == 401, r.json()
    user.refresh_from_db()
    assert user.email_verified_at is None


def test_an_address_another_account_verified_cannot_be_claimed():
    UserFactory(email="taken@example.com", email_verified_at=timezone.now())
    client = APIClient()
    wallet_sign_in(client, Account.create())

    r = client.put(f"{MARKETPLACE}/users/profile", {"email": "TAKEN@example.com"}, format="json")

    assert r.status_code == 409, r.json()
    assert not mail.outbox


def test_a_telemetry_key_asked_for_with_someone_elses_address_is_not_theirs():
    # given a person with an account and a verified address
    person = UserFactory(email="dev@example.com", email_verified_at=timezone.now())

    # when anyone asks telemetry for a key with that address
    r = APIClient().post("/telemetry/api/v1/keys", {"email": "dev@example.com"}, format="json")

    # then the key belongs to an account of the typed address, not to the person's
    assert r.status_code in (200, 201), r.json()
    assert not person.api_keys.exists()


# --- A signed-in user sees how they sign in ------------------------------------------------------------


def test_each_api_lists_the_identities_on_the_account():
    wallet = Account.create()
    marketplace = APIClient()
    user_id = wallet_sign_in(marketplace, wallet)["user"]["id"]
    user = User.objects.get(pk=user_id)

    listed = marketplace.get(f"{MARKETPLACE}/users/identities")
    coder = APIClient().get("/coder/api/users/me/identities", **bearer_for(user, "coder"))
    cerebro = APIClient().get("/cerebro/api/account/identities", **bearer_for(user, "cerebro"))

    assert listed.status_code == 200, listed.json()
    assert listed.json()["identities"][0]["provider"] == "wallet"
    assert listed.json()["identities"][0]["subject"] == wallet.address.lower()
    assert listed.json()["emailVerified"] is False
    assert coder.status_code == 200, coder.json()
    assert coder.json()["data"]["identities"] == listed.json()["identities"]
    assert cerebro.status_code == 200, cerebro.json()
    assert cerebro.json()["identities"] == listed.json()["identities"]
