"""Payload builders and state fixtures for the analytics API tests."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group

from analytics.services.triage import error_groups_resolve
from tests.analytics.factories import AnalyticsUserFactory
from tests.factories import UserFactory

BASE = "/analytics/api/v1"
USER_ID = "3f2b8c1e4d5a4f6b"


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def register_payload(user_id: str = USER_ID, **overrides) -> dict:
    payload = {
        "user_id": user_id,
        "registration_date": now_iso(),
        "system_info": {
            "platform": "Linux",
            "platform_version": "6.5.0-14-generic",
            "architecture": "x64",
            "python_version": "3.12.1",
            "jeeves_version": "1.2.0",
        },
        "privacy_consent": {
            "privacy_policy_version": "1.0.0",
            "consent_date": now_iso(),
            "analytics_enabled": True,
            "code_safety_acknowledged": True,
        },
    }
    payload.update(overrides)
    return payload


def track_payload(user_id: str = USER_ID, **overrides) -> dict:
    payload = {
        "user_id": user_id,
        "session_id": str(uuid.uuid4()),
        "event_type": "workflow_executed",
        "timestamp": now_iso(),
        "event_data": {"module_name": "code_review", "execution_time": 1.25, "success": True},
        "system_context": {"platform": "Linux", "jeeves_version": "1.2.0", "session_duration": 42.0},
    }
    payload.update(overrides)
    return payload


def error_payload(user_id: str = USER_ID, version: str = "1.2.0", **overrides) -> dict:
    payload = {
        "user_id": user_id,
        "session_id": str(uuid.uuid4()),
        "error_type": "ModuleExecutionError",
        "error_message": "module 'code_review' failed after 3 retries",
        "stack_trace": 'Traceback (most recent call last):\n  File "/home/alice/proj/app.py", line 42, in run\n'
        "ModuleExecutionError: boom",
        "timestamp": now_iso(),
        "context": {"module_name": "code_review", "execution_time": 3.5},
        "system_info": {"platform": "Linux", "python_version": "3.12.1", "jeeves_version": version},
    }
    payload.update(overrides)
    return payload


def feedback_payload(user_id: str = USER_ID, **overrides) -> dict:
    payload = {
        "user_id": user_id,
        "feedback_type": "bug",
        "message": "The review tool hangs on big repositories",
        "rating": 3,
        "timestamp": now_iso(),
        "metadata": {"additional_context": {"repo_size": "large"}},
        "system_info": {"platform": "macOS", "jeeves_version": "1.2.0"},
    }
    payload.update(overrides)
    return payload


def heartbeat_payload(user_id: str = USER_ID, **overrides) -> dict:
    payload = {
        "user_id": user_id,
        "session_id": str(uuid.uuid4()),
        "timestamp": now_iso(),
        "session_duration": 120.5,
        "jeeves_version": "1.2.0",
    }
    payload.update(overrides)
    return payload


def post(client, path: str, payload, **extra):
    body = payload if isinstance(payload, (str, bytes)) else json.dumps(payload)
    return client.post(f"{BASE}{path}", data=body, content_type="application/json", **extra)


def register(client, user_id: str = USER_ID, **overrides) -> str:
    """Register an install through the API; its install secret (shown once)."""
    response = post(client, "/users/register", register_payload(user_id, **overrides))
    assert response.status_code == 201, response.json()
    return response.json().get("install_secret")


def proof(secret: str | None) -> dict:
    """The header a data-subject request proves its install with (Django test-client form)."""
    return {} if secret is None else {"HTTP_X_INSTALL_SECRET": secret}


@pytest.fixture
def install_registered(db):
    return AnalyticsUserFactory(user_id=USER_ID)


@pytest.fixture
def install_secret(db, client) -> str:
    """An install registered through the API: the secret registration answered."""
    return register(client)


@pytest.fixture
def install_opted_out(db):
    return AnalyticsUserFactory(user_id=USER_ID, analytics_enabled=False)


@pytest.fixture
def group_resolved_at_1_2_0(db, client, install_registered, staff_user):
    """An error group seen on 1.2.0, resolved by staff."""
    from analytics.models import ErrorGroup

    response = post(client, "/errors/report", error_payload(version="1.2.0"))
    assert response.status_code == 201, response.json()
    group = ErrorGroup.objects.get(pk=response.json()["group_id"])
    error_groups_resolve(group_ids=[group.pk], actor=staff_user)
    group.refresh_from_db()
    return group


def sign_in(client, user) -> None:
    """force_login with the user as stored: the shared UserFactory sets an unusable password it
    does not save, so the in-memory object's session hash would not match the database's."""
    user.refresh_from_db()
    client.force_login(user)


@pytest.fixture
def staff_user(db):
    """A staff member in the "Support" group the migrations ship: views and triages analytics."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Support"))
    return user


@pytest.fixture
def admins_user(db):
    """A staff member in the "Admins" group."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Admins"))
    return user


@pytest.fixture
def staff_client(client, staff_user):
    sign_in(client, staff_user)
    return client
