"""/health reports every dependency and answers 503 when one is down."""

import asyncio

import pytest
from channels.layers import InMemoryChannelLayer
from django.db import OperationalError

from core import health

pytestmark = pytest.mark.django_db


@pytest.fixture
def celery_with_broker():
    """The Celery app as the full stack runs it: tasks go to the broker, not in-process."""
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager = False
    yield app
    app.conf.task_always_eager, app.conf.broker_url = saved


def test_all_dependencies_up_is_200(client):
    response = client.get("/health")

    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == "healthy"
    assert set(body["checks"]) == {"database", "cache", "broker", "channel_layer"}
    assert all(check["status"] == "healthy" for check in body["checks"].values())


def test_a_dependency_down_is_503_and_named(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused to 10.1.2.3")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)

    response = client.get("/health")

    body = response.json()
    assert response.status_code == 503, body
    assert body["checks"]["database"] == {
        **body["checks"]["database"],
        "status": "unhealthy",
        "error": "OperationalError",
    }
    assert body["checks"]["cache"]["status"] == "healthy"
    assert "10.1.2.3" not in response.content.decode()


def test_a_channel_layer_that_never_answers_is_unhealthy_not_a_hung_request(client, monkeypatch):
    class SilentLayer(InMemoryChannelLayer):
        async def receive(self, channel):
            await asyncio.Event().wait()  # a message that never comes back

    monkeypatch.setattr(health, "get_channel_layer", SilentLayer)
    monkeypatch.setattr(health, "CHANNEL_LAYER_TIMEOUT_SECONDS", 0.2)

    response = client.get("/health")

    body = response.json()
    assert response.status_code == 503, body
    assert body["checks"]["channel_layer"]["status"] == "unhealthy"
    assert body["checks"]["channel_layer"]["error"] == "TimeoutError"
    assert body["checks"]["channel_layer"]["latencyMs"] < 2000


@pytest.mark.redis
def test_broker_down_is_reported(client, celery_with_broker):
    celery_with_broker.conf.broker_url = "redis://127.0.0.1:1/0"

    response = client.get("/health")

    assert response.status_code == 503, response.json()
    assert response.json()["checks"]["broker"]["status"] == "unhealthy"


@pytest.mark.redis
def test_full_stack_uses_redis_for_cache_broker_and_channel_layer(client, celery_with_broker):

    checks = client.get("/health").json()["checks"]

    assert checks["cache"]["backend"] == "redis"
    assert checks["broker"]["backend"] == "redis"
    assert checks["channel_layer"]["backend"] == "RedisChannelLayer"
    assert all(check["status"] == "healthy" for check in checks.values()), checks


@pytest.mark.postgres
def test_full_stack_uses_postgresql(client):
    assert client.get("/health").json()["checks"]["database"]["backend"] == "postgresql"
