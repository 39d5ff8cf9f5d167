"""Staff manage users, identities, keys and sessions in the admin; no one else gets in."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.models import ApiKey, AuthSession, Identity

pytestmark = pytest.mark.django_db

CHANGELISTS = ["accounts_user", "accounts_identity", "accounts_apikey", "accounts_authsession"]


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def user_with_key_and_session(user):
    Identity.objects.create(user=user, provider="github", subject="42")
    services.api_key_create(user=user, product="coder", key_prefix="ac_")
    services.auth_session_start(user=user, product="coder")
    return user


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_staff_see_every_accounts_list(staff_client, user_with_key_and_session, changelist):
    response = staff_client.get(reverse(f"admin:{changelist}_changelist"))

    assert response.status_code == 200, response.content
    assert user_with_key_and_session.username.encode() in response.content


@pytest.mark.parametrize("changelist", CHANGELISTS)
def test_non_staff_are_sent_to_the_login_page(client, user, changelist):
    client.force_login(user)

    response = client.get(reverse(f"admin:{changelist}_changelist"))

    assert response.status_code == 302, response.content
    assert "/admin/login/" in response["Location"]


def test_staff_revoke_keys_and_sessions_in_bulk(staff_client, user_with_key_and_session):
    key = ApiKey.objects.get()
    session = AuthSession.objects.get()

    staff_client.post(
        reverse("admin:accounts_apikey_changelist"),
        {"action": "revoke_keys", "_selected_action": [key.pk]},
    )
    staff_client.post(
        reverse("admin:accounts_authsession_changelist"),
        {"action": "revoke_sessions", "_selected_action": [session.pk]},
    )

    key.refresh_from_db()
    session.refresh_from_db()
    assert key.revoked_at is not None
    assert session.revoked_reason == "revoked_by_staff"


def test_user_search_finds_by_identity_subject(staff_client, user_with_key_and_session):
    response = staff_client.get(reverse("admin:accounts_user_changelist"), {"q": "42"})

    assert user_with_key_and_session.email.encode() in response.content
