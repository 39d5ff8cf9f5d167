"""GET /coder/health in the spec's shape, and the AI model catalog."""

from __future__ import annotations

import pytest
from django.conf import settings

from coder.models import AIModel

pytestmark = pytest.mark.django_db


def test_health_reports_database_redis_and_queue(api_client):
    r = api_client.get("/coder/health")

    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "healthy"
    assert body["services"] == {"database": "healthy", "redis": "healthy", "queue": "healthy"}
    assert body["version"] == settings.APP_VERSION and body["environment"] == settings.ENVIRONMENT
    assert body["timestamp"].endswith("Z")
    assert set(body["backends"]) == {"database", "redis", "queue"}


def test_health_is_503_when_the_database_is_down(api_client, monkeypatch):
    from coder.views import health
    from core.health import CheckResult

    monkeypatch.setattr(health, "check_database", lambda: CheckResult("database", False, "sqlite", 1.0, "Error"))

    r = api_client.get("/coder/health")

    assert r.status_code == 503, r.json()
    assert r.json()["status"] == "unhealthy" and r.json()["services"]["database"] == "unhealthy"


@pytest.mark.redis
def test_health_uses_redis_on_the_full_stack(api_client):
    body = api_client.get("/coder/health").json()

    # (the queue reads "in-process" here: unit tests run Celery tasks eagerly)
    assert body["backends"]["redis"] == "redis" and body["services"]["redis"] == "healthy"


def test_catalog_is_loaded_by_the_data_migration(api_client):
    r = api_client.get("/coder/api/ai-models")

    assert r.status_code == 200, r.json()
    models = r.json()["data"]["models"]
    names = [model["name"] for model in models]
    assert names[:3] == ["gpt-4o", "gpt-4o-mini", "gpt-4"]
    gpt4 = next(model for model in models if model["name"] == "gpt-4")
    assert gpt4 == {
        "id": gpt4["id"],
        "name": "gpt-4",
        "displayName": "GPT-4",
        "provider": "openai",
        "description": "Most capable GPT model of its generation",
        "costPerToken": 0.00003,
        "maxTokens": 8192,
        "capabilities": ["debug", "ask", "documentation"],
        "isActive": True,
    }


def test_inactive_models_are_not_listed(api_client):
    AIModel.objects.filter(name="gpt-4").update(is_active=False)

    names = [model["name"] for model in api_client.get("/coder/api/ai-models").json()["data"]["models"]]

    assert "gpt-4" not in names


def test_staff_edit_the_catalog_in_the_admin(client, staff_user):
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    model = AIModel.objects.get(name="gpt-4")

    r = client.post(
        f"/admin/coder/aimodel/{model.pk}/change/",
        {
            "name": "gpt-4", "display_name": "GPT-4 (legacy)", "provider": "openai", "description": "Old",
            "cost_per_token": "0.0000250000", "max_tokens": 8192, "capabilities": '["ask"]', "is_active": "on",
            "sort_order": 9,
        },
    )  # fmt: skip

    assert r.status_code == 302, r.content[:500]
    model.refresh_from_db()
    assert model.display_name == "GPT-4 (legacy)" and model.capabilities == ["ask"]
