"""The integration tests' processes (Celery workers, the ASGI server) live in tests/plugins/live_stack.py.

That plugin is registered from tests/conftest.py, so its fixtures (``stack_env``, ``asgi_server``,
``celery_worker``, ``celery_worker_factory``, ``open_user_socket``) are shared by every folder and
each starts once per session. Request them by name: importing a fixture into a module would give
that module a copy of its own, and a session-scoped server of its own. The helpers are importable
from here as before.

``job_broker`` (here) runs a test once per supported broker: Redis (``REDIS_URL``) and RabbitMQ
(``RABBITMQ_URL``, default ``amqp://guest:guest@127.0.0.1:5672//``; unreachable, the RabbitMQ run
is skipped on a developer's machine and fails in CI). Each run's workers and this test process
publish to that broker.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from celery import current_app
from django.conf import settings
from kombu import Connection

from tests.plugins.live_stack import (
    REPO_ROOT,
    VENV_BIN,
    CeleryWorkers,
    ManagedProcess,
    assert_receives_nothing,
    database_url_of_test_database,
    health_answers,
    receive_event,
    wait_for,
)
from tests.plugins.xdist_isolation import free_port

__all__ = [
    "REPO_ROOT",
    "VENV_BIN",
    "JobBroker",
    "ManagedProcess",
    "assert_receives_nothing",
    "database_url_of_test_database",
    "free_port",
    "health_answers",
    "receive_event",
    "wait_for",
]

IN_CI = bool(os.environ.get("CI"))
DEFAULT_RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def rabbitmq_url() -> str:
    return os.environ.get("RABBITMQ_URL") or DEFAULT_RABBITMQ_URL


def rabbitmq_unreachable(url: str) -> str | None:
    try:
        with Connection(url, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # any failure to connect means the same: no broker to test on
        return f"{type(exc).__name__}: {exc}"
    return None


@dataclass
class JobBroker:
    """The broker a test runs on, the workers it starts there, and its name for messages."""

    name: str
    url: str
    workers: CeleryWorkers

    @property
    def redelivers_at_once(self) -> bool:
        """RabbitMQ re-queues a dead consumer's unacknowledged messages when its connection drops."""
        return self.name == "rabbitmq"


def _use_broker_in_this_process(url: str) -> None:
    """Point this process's Celery app (its publishes, its control pings) at ``url``."""
    current_app.conf.broker_url = url
    current_app._pool = None
    current_app.amqp._producer_pool = None


@pytest.fixture(params=["redis", "rabbitmq"])
def job_broker(request, stack_env, process_log_dir) -> Iterator[JobBroker]:
    """Redis, then RabbitMQ: workers started on it, and this process publishing to it."""
    url = settings.CELERY_BROKER_URL if request.param == "redis" else rabbitmq_url()
    if request.param == "rabbitmq":
        missing = rabbitmq_unreachable(url)
        if missing:
            message = f"needs RabbitMQ at RABBITMQ_URL ({missing}); start it with: rabbitmq-server -detached"
            if IN_CI:
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
    workers = CeleryWorkers({**stack_env, "CELERY_BROKER_URL": url}, process_log_dir)
    previous = current_app.conf.broker_url
    _use_broker_in_this_process(url)
    try:
        yield JobBroker(name=request.param, url=url, workers=workers)
    finally:
        workers.close()
        _use_broker_in_this_process(previous)
