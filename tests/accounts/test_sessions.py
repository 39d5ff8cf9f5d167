"""Sessions and tokens: access + refresh, rotation, reuse detection, revocation."""

import jwt
import pytest
from django.conf import settings

from accounts import services
from accounts.models import AuthSession
from core.errors import DomainError

pytestmark = [pytest.mark.urls("tests.core.probe_urls"), pytest.mark.django_db]

PROTECTED = "/coder/__probe/protected"


@pytest.fixture
def coder_session(user):
    return services.auth_session_start(user=user, product="coder")


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_access_token_signs_the_user_in(client, user, coder_session):
    response = client.get(PROTECTED, **bearer(coder_session.tokens.access))

    assert response.status_code == 200, response.json()
    assert response.json() == {"userId": str(user.pk)}


def test_the_bearer_check_reads_the_session_and_its_user_in_one_query(client, coder_session, django_assert_num_queries):
    client.get(PROTECTED, **bearer(coder_session.tokens.access))  # warm: anything read once per process

    with django_assert_num_queries(1):
        response = client.get(PROTECTED, **bearer(coder_session.tokens.access))

    assert response.status_code == 200, response.json()


def test_a_token_whose_session_belongs_to_another_user_is_refused(client, coder_session, other_user):
    AuthSession.objects.filter(pk=coder_session.session.pk).update(user=other_user)

    assert (r := client.get(PROTECTED, **bearer(coder_session.tokens.access))).status_code == 401, r.content


def test_refresh_rotates_both_tokens(client, coder_session):
    rotated = services.auth_session_refresh(raw_refresh_token=coder_session.tokens.refresh, product="coder")

    assert rotated.refresh != coder_session.tokens.refresh
    assert (r := client.get(PROTECTED, **bearer(rotated.access))).status_code == 200, r.content


def test_reusing_a_rotated_refresh_token_revokes_the_session(client, coder_session):
    # Given a refresh token that was already exchanged
    rotated = services.auth_session_refresh(raw_refresh_token=coder_session.tokens.refresh, product="coder")

    # When the old one is presented again (it leaked)
    with pytest.raises(DomainError) as raised:
        services.auth_session_refresh(raw_refresh_token=coder_session.tokens.refresh, product="coder")

    # Then it is refused and every token of the session stops working
    assert raised.value.status == 401
    assert AuthSession.objects.get(pk=coder_session.session.pk).revoked_reason == "refresh_token_reuse"
    assert (r := client.get(PROTECTED, **bearer(rotated.access))).status_code == 401, r.content
    with pytest.raises(DomainError):
        services.auth_session_refresh(raw_refresh_token=rotated.refresh, product="coder")


def test_after_logout_access_and_refresh_tokens_get_401(client, coder_session):
    services.auth_session_revoke(session=coder_session.session)

    response = client.get(PROTECTED, **bearer(coder_session.tokens.access))

    assert response.status_code == 401, response.json()
    with pytest.raises(DomainError) as raised:
        services.auth_session_refresh(raw_refresh_token=coder_session.tokens.refresh, product="coder")
    assert raised.value.status == 401


def test_refresh_token_is_not_an_access_token(client, coder_session):
    assert (r := client.get(PROTECTED, **bearer(coder_session.tokens.refresh))).status_code == 401, r.content


def _forge(claims: dict, key: str = "", algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or settings.SIMPLE_JWT["SIGNING_KEY"], algorithm=algorithm)


@pytest.mark.parametrize(
    "tamper",
    ["alg_none", "wrong_key", "expired", "payload_edited", "garbage"],
)
def test_bad_tokens_are_refused(client, user, other_user, coder_session, tamper):
    claims = jwt.decode(coder_session.tokens.access, options={"verify_signature": False})
    if tamper == "alg_none":
        token = jwt.encode(claims, key=None, algorithm="none")
    elif tamper == "wrong_key":
        token = _forge(claims, key="not-the-signing-key-but-long-enough-for-hs256")
    elif tamper == "expired":
        token = _forge({**claims, "exp": 1_000_000_000, "iat": 999_999_000})
    elif tamper == "payload_edited":
        header, _, signature = coder_session.tokens.access.split(".")
        edited = jwt.encode({**claims, "sub": str(other_user.pk)}, "x", algorithm="HS256").split(".")[1]
        token = f"{header}.{edited}.{signature}"
    else:
        token = "not.a.jwt"

    response = client.get(PROTECTED, **bearer(token))

    assert response.status_code == 401, response.json()
    assert response.json()["error"]["code"] == "UNAUTHORIZED"


def test_disabled_user_is_refused(client, user, coder_session):
    user.is_active = False
    user.save()

    assert (r := client.get(PROTECTED, **bearer(coder_session.tokens.access))).status_code == 401, r.content


def test_concurrent_refreshes_of_one_token_let_one_win(coder_session):
    first = services.auth_session_refresh(raw_refresh_token=coder_session.tokens.refresh, product="coder")

    with pytest.raises(DomainError):
        services.auth_session_refresh(raw_refresh_token=coder_session.tokens.refresh, product="coder")
    assert first.access
