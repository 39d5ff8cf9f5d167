"""Users found through outside identities, API keys and session cookies."""

import pytest
from django.test import Client
from django.urls import include, path
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from accounts import selectors, services
from accounts.authentication import ApiKeyAuthentication, SessionCookieAuthentication
from accounts.identity import VerifiedIdentity
from accounts.models import ApiKey, Identity
from core.views import ApiView


class ProbeKeyAuthentication(ApiKeyAuthentication):
    product = "probe"


class ProbeCookieAuthentication(SessionCookieAuthentication):
    cookie_name = "probe_session"
    product = "probe"


class WhoAmI(ApiView):
    authentication_classes = [ProbeKeyAuthentication, ProbeCookieAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"userId": str(request.user.pk)})

    def post(self, request):
        return Response({"userId": str(request.user.pk)})


urlpatterns = [path("coder/__whoami", WhoAmI.as_view()), path("", include("config.urls"))]

pytestmark = [pytest.mark.urls(__name__), pytest.mark.django_db]


def test_new_identity_creates_a_user():
    user, created = services.user_for_identity(
        identity=VerifiedIdentity(
            provider="clerk", subject="user_1", email="ada@example.com", email_verified=True, display_name="Ada"
        )
    )

    assert created
    assert user.email == "ada@example.com" and user.display_name == "Ada" and user.email_verified
    assert Identity.objects.filter(user=user, provider="clerk", subject="user_1").exists()


def test_known_identity_returns_its_user():
    first, _ = services.user_for_identity(identity=VerifiedIdentity(provider="clerk", subject="user_1"))

    again, created = services.user_for_identity(identity=VerifiedIdentity(provider="clerk", subject="user_1"))

    assert again == first and not created


def test_an_address_typed_again_in_another_case_is_the_same_user():
    first, _ = services.user_get_or_create_for_email(email="Kevin@Example.com")

    again, created = services.user_get_or_create_for_email(email="kevin@example.COM ")

    assert again == first and not created


def test_a_look_alike_address_is_an_identity_of_its_own():
    # U+212A KELVIN SIGN lower-cases to an ASCII "k", but mail to it goes elsewhere
    squatter, _ = services.user_get_or_create_for_email(email="\u212aevin@example.com")

    owner, created = services.user_get_or_create_for_email(email="kevin@example.com")

    assert created and owner != squatter
    assert owner.email == "kevin@example.com"


def test_a_verified_look_alike_address_does_not_link_to_the_verified_user():
    # PostgreSQL's UPPER() folds U+017F LATIN SMALL LETTER LONG S to an ASCII "S"
    owner, _ = services.user_for_identity(
        identity=VerifiedIdentity(provider="clerk", subject="user_1", email="sam@example.com", email_verified=True)
    )

    other, created = services.user_for_identity(
        identity=VerifiedIdentity(provider="clerk", subject="user_2", email="\u017fam@example.com", email_verified=True)
    )

    assert created and other != owner


def test_api_key_is_shown_once_and_stored_hashed(user):
    issued = services.api_key_create(user=user, product="probe", key_prefix="pk_live_")

    stored = ApiKey.objects.get(pk=issued.api_key.pk)
    assert issued.raw_key.startswith("pk_live_")
    assert issued.raw_key not in (stored.key_hash, stored.prefix)
    assert issued.raw_key.startswith(stored.prefix)
    assert selectors.api_key_by_raw(issued.raw_key, product="probe") == stored


def test_api_key_header_signs_in_and_records_use(user):
    issued = services.api_key_create(user=user, product="probe", key_prefix="pk_")

    response = Client().get("/coder/__whoami", HTTP_X_API_KEY=issued.raw_key)

    assert response.status_code == 200, response.json()
    assert response.json()["userId"] == str(user.pk)
    assert ApiKey.objects.get(pk=issued.api_key.pk).last_used_at is not None


def test_revoked_or_unknown_api_key_is_401(user):
    issued = services.api_key_create(user=user, product="probe", key_prefix="pk_")
    services.api_key_revoke(api_key=issued.api_key)

    assert (r := Client().get("/coder/__whoami", HTTP_X_API_KEY=issued.raw_key)).status_code == 401, r.content
    assert (r := Client().get("/coder/__whoami", HTTP_X_API_KEY="pk_unknown")).status_code == 401, r.content


def test_key_of_another_product_is_refused(user):
    issued = services.api_key_create(user=user, product="telemetry", key_prefix="ngb_live_")

    assert (r := Client().get("/coder/__whoami", HTTP_X_API_KEY=issued.raw_key)).status_code == 401, r.content


def test_session_cookie_signs_in_for_reads(user):
    issued = services.auth_session_start(user=user, product="probe")
    client = Client()
    client.cookies["probe_session"] = issued.session_key

    response = client.get("/coder/__whoami")

    assert response.status_code == 200, response.json()


def test_cookie_authenticated_write_needs_the_csrf_token(user):
    issued = services.auth_session_start(user=user, product="probe")
    client = Client(enforce_csrf_checks=True)
    client.cookies["probe_session"] = issued.session_key

    refused = client.post("/coder/__whoami")
    client.cookies["csrftoken"] = "a" * 32
    accepted = client.post("/coder/__whoami", HTTP_X_CSRFTOKEN="a" * 32)

    assert refused.status_code == 403, refused.json()
    assert accepted.status_code == 200, accepted.json()


def test_cookie_of_a_revoked_session_is_401(user):
    issued = services.auth_session_start(user=user, product="probe")
    services.auth_session_revoke(session=issued.session)
    client = Client()
    client.cookies["probe_session"] = issued.session_key

    assert (r := client.get("/coder/__whoami")).status_code == 401, r.content
