"""POST /users/register: 201, 409 when the user exists, 400 on invalid data."""

from __future__ import annotations

import pytest

from analytics.models import AnalyticsUser
from tests.analytics.conftest import USER_ID, post, register_payload


@pytest.mark.django_db
def test_register_creates_the_install(client):
    # When a new install registers
    response = post(client, "/users/register", register_payload())

    # Then it is stored with its system information and consent
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body == {"status": "ok", "user_id": USER_ID, "registered": True, "install_secret": body["install_secret"]}
    assert body["install_secret"].startswith("ais_")
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert (user.platform, user.architecture, user.python_version, user.jeeves_version) == (
        "Linux",
        "x64",
        "3.12.1",
        "1.2.0",
    )
    assert user.privacy_consent_version == "1.0.0"
    assert user.analytics_enabled and user.code_safety_acknowledged and not user.auto_registered


@pytest.mark.django_db
def test_register_twice_is_a_conflict(client, install_registered):
    response = post(client, "/users/register", register_payload())

    assert response.status_code == 409, response.json()
    assert response.json()["status"] == "error"
    assert response.json()["error"]["code"] == "USER_EXISTS"


@pytest.mark.django_db
def test_register_with_analytics_disabled_keeps_only_the_consent(client):
    payload = register_payload()
    payload["privacy_consent"]["analytics_enabled"] = False

    response = post(client, "/users/register", payload)

    assert response.status_code == 201, response.json()
    user = AnalyticsUser.objects.get(pk=USER_ID)
    assert not user.analytics_enabled
    assert (user.platform, user.python_version, user.architecture) == ("", "", "")


@pytest.mark.django_db
def test_register_normalises_platform_names(client):
    payload = register_payload()
    payload["system_info"]["platform"] = "Darwin"

    assert (r := post(client, "/users/register", payload)).status_code == 201, r.content
    assert AnalyticsUser.objects.get(pk=USER_ID).platform == "macOS"


@pytest.mark.django_db
def test_register_lowercases_the_user_id(client):
    assert (r := post(client, "/users/register", register_payload(user_id=USER_ID.upper()))).status_code == 201, (
        r.content
    )
    assert AnalyticsUser.objects.filter(pk=USER_ID).exists()


def _with(path: str, value):
    payload = register_payload()
    target = payload
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[key]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return payload


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("user_id", "short"),
        ("user_id", "zzzzzzzzzzzzzzzz"),
        ("user_id", "3f2b8c1e4d5a4f6b0"),
        ("user_id", 1234567890123456),
        ("user_id", KeyError),
        ("registration_date", "yesterday"),
        ("registration_date", 1714564800),
        ("registration_date", "2999-01-01T00:00:00Z"),
        ("system_info.platform", None),
        ("system_info.python_version", "three"),
        ("system_info.jeeves_version", "1.0"),
        ("system_info.jeeves_version", "v1.0.0"),
        ("system_info.architecture", None),
        ("system_info.hostname", "alice-laptop"),
        ("privacy_consent.analytics_enabled", "yes"),
        ("privacy_consent.privacy_policy_version", "1.0.0.0.0.0"),
        ("privacy_consent.privacy_policy_version", "\u0661.\u0660"),
        ("system_info.jeeves_version", "\u0661.\u0662.\u0663"),
        ("system_info.jeeves_version", "\uff11.2.0"),
        ("system_info.python_version", "\u0663.\u0661\u0662"),
        ("privacy_consent", KeyError),
        ("extra_field", "x"),
    ],
)
def test_register_rejects_invalid_data(client, path, value):
    response = post(client, "/users/register", _with(path, value))

    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "VALIDATION_ERROR"
    assert not AnalyticsUser.objects.exists()


@pytest.mark.django_db
def test_register_names_the_failing_field(client):
    response = post(client, "/users/register", _with("system_info.python_version", "three"))

    assert response.status_code == 400, response.json()
    details = response.json()["error"]["details"]
    assert list(details) == ["system_info"] and list(details["system_info"]) == ["python_version"]


@pytest.mark.django_db
def test_register_rejects_unknown_top_level_fields_by_name(client):
    response = post(client, "/users/register", {**register_payload(), "email": "a@b.c"})

    assert response.status_code == 400, response.json()
    assert response.json()["error"]["details"] == {"email": ["Unknown field."]}


@pytest.mark.django_db
@pytest.mark.parametrize("body", ["not json", "[1, 2]", "", "null"])
def test_register_rejects_a_body_that_is_not_an_object(client, body):
    response = post(client, "/users/register", body)

    assert response.status_code == 400, response.json()
    assert response.json()["status"] == "error"
