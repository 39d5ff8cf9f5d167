"""Data-subject requests need a proof of the install: the secret registration answered once.

The user_id is in every event body and the Jeeves4coders client derives it from hostname, OS and
CPU, so knowing it proves nothing. Installs without a secret are served by staff in the admin.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from django.urls import reverse

from analytics.models import AnalyticsUser, AuditLogEntry, Feedback, UsageEvent
from tests.analytics.conftest import (
    BASE,
    USER_ID,
    error_payload,
    feedback_payload,
    post,
    proof,
    register,
    register_payload,
    sign_in,
    track_payload,
)
from tests.analytics.factories import AnalyticsUserFactory, FeedbackFactory
from tests.factories import UserFactory

PRIVATE_TEXT = "the staging key rotation broke my deploy"

# (method, path, body): every request that reads, changes or removes an install's data.
RIGHTS_REQUESTS = {
    "export": ("get", f"/users/{USER_ID}/data", None),
    "opt-out": ("put", f"/users/{USER_ID}/privacy", {"analytics_enabled": False}),
    "delete": ("delete", f"/users/{USER_ID}", None),
    "anonymize": ("delete", f"/users/{USER_ID}?mode=anonymize", None),
}


def rights_request(client, name: str, secret: str | None = None):
    method, path, body = RIGHTS_REQUESTS[name]
    extra = proof(secret)
    if body is not None:
        extra |= {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method)(f"{BASE}{path}", **extra)


def assert_untouched(client) -> None:
    """The install, its preference and its data are as they were."""
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert user.analytics_enabled
    assert UsageEvent.objects.filter(user=user).count() == 1
    assert Feedback.objects.get(user=user).message == PRIVATE_TEXT


@pytest.fixture
def install_with_feedback(db, client) -> str:
    """A registered install with an event and private feedback text; its secret."""
    secret = register(client)
    assert (r := post(client, "/usage/track", track_payload())).status_code == 200, r.content
    assert (r := post(client, "/feedback/submit", feedback_payload(message=PRIVATE_TEXT))).status_code == 201, r.content
    return secret


# --- registration ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_registration_answers_the_secret_once_and_stores_only_its_hash(client):
    # When an install registers
    response = post(client, "/users/register", register_payload())

    # Then it gets a secret, and the server keeps its SHA-256 only
    assert response.status_code == 201, response.json()
    secret = response.json()["install_secret"]
    assert secret.startswith("ais_") and len(secret) > 40
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert user.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = json.dumps(list(AnalyticsUser.objects.values()), default=str)
    assert secret not in stored


@pytest.mark.django_db
def test_a_second_registration_of_a_taken_user_id_hands_out_nothing_and_changes_nothing(client):
    # Given an install registered on a Linux machine (its secret kept by it)
    secret = register(client)
    before = AnalyticsUser.objects.get(pk=USER_ID)

    # When another machine with the same hostname, OS and CPU (so the same user_id) registers
    taken = register_payload()
    taken["system_info"] |= {"platform": "Windows", "python_version": "3.11.2", "architecture": "AMD64"}
    taken["privacy_consent"]["analytics_enabled"] = False
    response = post(client, "/users/register", taken)

    # Then it is a conflict without a secret, and the first install is as it was
    assert response.status_code == 409, response.json()
    assert response.json()["error"]["code"] == "USER_EXISTS"
    assert "install_secret" not in response.content.decode() and secret not in response.content.decode()
    after = AnalyticsUser.objects.get(pk=USER_ID)
    assert (after.secret_hash, after.platform, after.python_version, after.analytics_enabled) == (
        before.secret_hash,
        "Linux",
        "3.12.1",
        True,
    )
    # And the first install's secret still works
    assert (r := rights_request(client, "export", secret)).status_code == 200, r.content


@pytest.mark.django_db
def test_registering_an_id_known_from_events_does_not_claim_its_data(client):
    # Given events and feedback from an install that never registered here
    assert (r := post(client, "/usage/track", track_payload())).status_code == 200, r.content
    assert (r := post(client, "/feedback/submit", feedback_payload(message=PRIVATE_TEXT))).status_code == 201, r.content

    # When someone registers its user_id
    response = post(client, "/users/register", register_payload())

    # Then no secret is handed out for data someone else sent, nor is the install changed
    assert response.status_code == 409, response.json()
    assert "install_secret" not in response.json()
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert user.auto_registered and user.secret_hash == "" and user.architecture == ""


# --- refusals ------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(RIGHTS_REQUESTS))
def test_knowing_the_user_id_is_not_enough(client, install_with_feedback, name):
    # When someone who knows only the user_id makes the request
    response = rights_request(client, name)

    # Then it is refused in the analytics envelope, and nothing is read or changed
    assert response.status_code == 401, response.json()
    assert response.json()["status"] == "error"
    assert response.json()["error"]["code"] == "INSTALL_PROOF_REQUIRED"
    assert PRIVATE_TEXT not in response.content.decode()
    assert_untouched(client)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(RIGHTS_REQUESTS))
def test_a_wrong_secret_or_another_installs_secret_is_refused(client, install_with_feedback, name):
    other_secret = register(client, user_id="aaaaaaaaaaaaaaaa")

    for secret in ("ais_" + "x" * 43, other_secret, install_with_feedback + "x", ""):
        response = rights_request(client, name, secret)

        assert response.status_code == 401, response.json()
    assert_untouched(client)


@pytest.mark.django_db
def test_unknown_ids_and_installs_without_a_secret_answer_exactly_like_a_wrong_secret(client, install_with_feedback):
    # Given an install registered before secrets existed, and an id nobody uses
    AnalyticsUserFactory(user_id="bbbbbbbbbbbbbbbb")  # no secret
    wrong = client.get(f"{BASE}/users/{USER_ID}/data", **proof("ais_wrong"))

    # When each is asked for
    legacy = client.get(f"{BASE}/users/bbbbbbbbbbbbbbbb/data", **proof("ais_wrong"))
    unknown = client.get(f"{BASE}/users/cccccccccccccccc/data", **proof("ais_wrong"))

    # Then the answers cannot tell them apart (no oracle of which ids exist)
    assert wrong.status_code == legacy.status_code == unknown.status_code == 401, (
        wrong.json(),
        legacy.json(),
        unknown.json(),
    )
    assert wrong.json() == legacy.json() == unknown.json()


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(RIGHTS_REQUESTS))
def test_the_installs_secret_is_the_proof(client, install_with_feedback, name):
    response = rights_request(client, name, install_with_feedback)

    assert response.status_code == 200, response.json()


@pytest.mark.django_db
def test_the_anonymous_fallback_id_can_neither_register_nor_be_asked_for(client):
    response = post(client, "/users/register", register_payload("anonymous"))

    assert response.status_code == 201, response.json()
    assert response.json() == {"status": "ok", "user_id": "anonymous", "registered": False, "install_secret": None}
    assert not AnalyticsUser.objects.exists()
    assert (r := client.get(f"{BASE}/users/anonymous/data")).status_code == 400, r.content


# --- the staff path (installs without a secret) --------------------------------------------------------


@pytest.fixture
def legacy_install(db):
    """An install registered before install secrets existed, with private feedback."""
    install = AnalyticsUserFactory(user_id=USER_ID)  # secret_hash "": registered without one
    FeedbackFactory(user=install, message=PRIVATE_TEXT)
    return install


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


def run_action(client, action: str, *user_ids: str):
    return client.post(
        reverse("admin:analytics_analyticsuser_changelist"),
        {"action": action, "_selected_action": list(user_ids)},
    )


@pytest.mark.django_db
def test_staff_export_the_data_of_an_install_without_a_secret(client, staff_user, legacy_install):
    # Given the install cannot prove itself through the API
    assert (r := client.get(f"{BASE}/users/{USER_ID}/data")).status_code == 401, r.content
    sign_in(client, staff_user)

    # When staff (having checked who asks) export its data from the admin
    response = run_action(client, "export_data", USER_ID)

    # Then they get the same document as the API, and the audit log names them
    assert response.status_code == 200, response.content
    assert response["Content-Disposition"].startswith("attachment;")
    document = json.loads(response.content)
    assert document["user_id"] == USER_ID and document["feedback"][0]["message"] == PRIVATE_TEXT
    entry = AuditLogEntry.objects.get(action="subject.export")
    assert entry.actor == staff_user and USER_ID not in entry.target


@pytest.mark.django_db
def test_staff_opt_an_install_out(client, staff_user, legacy_install):
    sign_in(client, staff_user)

    response = run_action(client, "opt_out", USER_ID)

    assert response.status_code == 302, response.content
    assert not AnalyticsUser.objects.get(pk=USER_ID).analytics_enabled
    assert AuditLogEntry.objects.get(action="subject.privacy").actor == staff_user


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "mode"), [("anonymize_data", "anonymize"), ("delete_data", "delete")])
def test_superusers_anonymize_or_delete_an_install(client, superuser, legacy_install, action, mode):
    sign_in(client, superuser)

    response = run_action(client, action, USER_ID)

    assert response.status_code == 302, response.content
    assert not AnalyticsUser.objects.filter(pk=USER_ID).exists()
    assert Feedback.objects.filter(user__isnull=True).count() == (1 if mode == "anonymize" else 0)
    assert AuditLogEntry.objects.get(action=f"subject.{mode}").actor == superuser


@pytest.mark.django_db
@pytest.mark.parametrize("action", ["anonymize_data", "delete_data"])
def test_staff_who_are_not_superusers_cannot_erase(client, staff_user, legacy_install, action):
    sign_in(client, staff_user)

    run_action(client, action, USER_ID)

    assert Feedback.objects.get(user_id=USER_ID).message == PRIVATE_TEXT


@pytest.mark.django_db
def test_the_installs_page_shows_which_installs_have_a_secret(client, staff_user, legacy_install):
    register(client, user_id="aaaaaaaaaaaaaaaa")
    sign_in(client, staff_user)

    without = client.get(reverse("admin:analytics_analyticsuser_changelist"), {"install_secret": "no"})

    assert without.status_code == 200, without.content
    assert USER_ID in without.content.decode() and "aaaaaaaaaaaaaaaa" not in without.content.decode()


@pytest.mark.django_db
def test_error_reports_of_the_install_are_exported_by_staff_too(client, staff_user, legacy_install):
    assert (r := post(client, "/errors/report", error_payload())).status_code == 201, r.content
    sign_in(client, staff_user)

    document = json.loads(run_action(client, "export_data", USER_ID).content)

    assert document["counts"]["error_reports"] == 1
