"""POST /scrub/dry-run: staff only; shows what each rule would remove; stores nothing but an audit entry."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from analytics.models import AuditLogEntry
from tests.analytics.conftest import BASE, sign_in
from tests.conftest import bearer_for
from tests.factories import UserFactory

PAYLOAD = {
    "payload": {
        "error_message": "cannot open /home/alice/app.py",
        "metadata": {"password": "hunter2", "note": "mail alice@example.com"},
    }
}


@pytest.mark.django_db
def test_staff_session_gets_the_hits(api_client, staff_user):
    sign_in(api_client, staff_user)
    response = api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "ok"
    assert body["scrubbed"] == {
        "error_message": "cannot open <path>",
        "metadata": {"password": "<redacted>", "note": "mail <email>"},
    }
    assert {(hit["path"], hit["rule"], hit["match"]) for hit in body["hits"]} == {
        ("$.error_message", "home_directory", "/home/alice/app.py"),
        ("$.metadata.password", "sensitive_key", "hunter2"),
        ("$.metadata.note", "email", "alice@example.com"),
    }
    assert body["rules"] == {"home_directory": 1, "sensitive_key": 1, "email": 1}


@pytest.mark.django_db
def test_dry_run_names_the_phone_and_git_remote_rules(api_client, staff_user):
    payload = {"payload": {"message": "ring +1 (415) 555-0100", "remote": "git@gitlab.acme.io:team/secret.git"}}
    sign_in(api_client, staff_user)

    response = api_client.post(f"{BASE}/scrub/dry-run", payload, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["scrubbed"] == {"message": "ring <phone>", "remote": "<git-remote>"}
    assert response.json()["rules"] == {"phone_number": 1, "git_remote": 1}


@pytest.mark.django_db
def test_dry_run_is_audited_without_the_payload(api_client, staff_user):
    sign_in(api_client, staff_user)
    api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json")

    entry = AuditLogEntry.objects.get(action="scrub.dry_run")
    assert entry.actor == staff_user and entry.details["hits"] == 3
    assert "hunter2" not in str(entry.details) and "alice" not in str(entry.details)


@pytest.mark.django_db
def test_staff_session_works_with_csrf(staff_user):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    sign_in(client, staff_user)
    page = client.get("/admin/")
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None

    without_csrf = client.post(f"{BASE}/scrub/dry-run", {"payload": "x"}, format="json")
    with_csrf = client.post(f"{BASE}/scrub/dry-run", {"payload": "a@b.co"}, format="json", HTTP_X_CSRFTOKEN=token)

    assert without_csrf.status_code == 403, without_csrf.json()
    assert with_csrf.status_code == 200, with_csrf.json()
    assert with_csrf.json()["scrubbed"] == "<email>"


@pytest.mark.django_db
def test_anonymous_is_401(api_client):
    response = api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json")

    assert response.status_code == 401, response.json()
    assert response.json()["status"] == "error"


@pytest.mark.django_db
@pytest.mark.django_db
@pytest.mark.parametrize("product", ["coder", "marketplace", "cerebro"])
def test_a_staff_users_product_token_is_refused(api_client, staff_user, product):
    # staff endpoints take the admin session only: no product's bearer token carries staff rights
    response = api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json", **bearer_for(staff_user, product))

    assert response.status_code == 401, response.json()
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_a_user_who_is_not_staff_is_403(api_client, user):
    sign_in(api_client, user)
    response = api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json")

    assert response.status_code == 403, response.json()
    assert not AuditLogEntry.objects.exists()


@pytest.mark.django_db
def test_staff_without_the_dashboard_permission_is_403_as_on_the_admin_page(api_client):
    # Given a staff member in no group (an empty admin)
    sign_in(api_client, UserFactory(is_staff=True))

    # When they try the scrubber on the admin page and through the API
    page = api_client.post(reverse("admin:analytics_dashboard_scrub"), {"payload": "x"})
    response = api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json")

    # Then both refuse
    assert page.status_code == 403, page.content
    assert response.status_code == 403, response.json()
    assert not AuditLogEntry.objects.filter(action="scrub.dry_run").exists()


@pytest.mark.django_db
def test_staff_with_only_the_dashboard_view_permission_gets_the_hits(api_client):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_dashboard"))
    sign_in(api_client, viewer)

    response = api_client.post(f"{BASE}/scrub/dry-run", PAYLOAD, format="json")

    assert response.status_code == 200, response.json()


@pytest.mark.django_db
def test_missing_payload_is_400(api_client, staff_user):
    sign_in(api_client, staff_user)
    response = api_client.post(f"{BASE}/scrub/dry-run", {"text": "x"}, format="json")

    assert response.status_code == 400, response.json()


@pytest.mark.django_db
def test_a_form_body_with_the_staff_session_is_a_400_not_a_500(staff_user):
    # the CSRF check parses a form body; the view then reads the raw body (it was a 500)
    from rest_framework.test import APIClient

    client = APIClient()
    sign_in(client, staff_user)
    response = client.post(f"{BASE}/scrub/dry-run", {"payload": "x"}, format="multipart")

    assert response.status_code == 400, response.json()
