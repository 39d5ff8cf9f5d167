"""The pieces that keep the APIs serving while Redis is unreachable, one by one (no service needed).

tests/quality/test_faults.py proves the whole on a live server with a Redis that really goes away.
"""

from __future__ import annotations

import pytest
from kombu.exceptions import OperationalError as BrokerUnreachableError
from redis.exceptions import ConnectionError as RedisConnectionError

from core import jobs, ratelimit
from core.envelopes import envelope_for_path
from core.exceptions import to_domain_error
from marketplace.models import GenerationJob
from marketplace.services.generation import GENERATION_JOB_RUN_TASK
from tests.marketplace.factories import DatasetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_unreachable(monkeypatch):
    def refuse(*args, **kwargs):
        raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(ratelimit, "_uses_redis", lambda: True)
    monkeypatch.setattr(ratelimit, "_increment_redis", refuse)
    monkeypatch.setattr(ratelimit, "_redis_get", refuse)
    monkeypatch.setattr(ratelimit, "_last_outage_warning", 0.0)


def test_the_rate_limiter_fails_open_without_made_up_headers(redis_unreachable, caplog):
    result = ratelimit.hit("coder.general", "user:1")
    assert result.allowed and result.uncounted
    assert result.headers(envelope_for_path("/coder/api/tasks")) == {}
    assert ratelimit.peek("telemetry.patterns_daily_free", "account:1").uncounted
    assert "counter store unreachable" in caplog.text


def test_the_outage_is_logged_at_most_once_a_minute(redis_unreachable, caplog):
    for _ in range(5):
        ratelimit.hit("coder.general", "user:1")
    assert caplog.text.count("counter store unreachable") == 1


def test_an_api_served_while_redis_is_down_has_no_rate_limit_headers(redis_unreachable, api_client):
    r = api_client.get("/coder/api/ai-models")
    assert r.status_code == 200, r.json()
    assert "X-RateLimit-Limit" not in r


@pytest.mark.parametrize(
    "exc", [BrokerUnreachableError("Error 111 connecting"), RedisConnectionError("Error 111 connecting")]
)
def test_an_unreachable_broker_or_redis_is_a_503_in_the_envelope(exc):
    error = to_domain_error(exc)
    assert error is not None and error.status == 503 and error.code == "SERVICE_UNAVAILABLE"
    assert "Redis" in error.message


@pytest.fixture
def queued_job(user):
    return GenerationJob.objects.create(dataset=DatasetFactory(creator=user, status="generating"), user=user)


@pytest.fixture
def broker(monkeypatch):
    """A broker that refuses connections (when ``refuse`` is set) and records what it was sent."""

    class Broker:
        sent: list = []
        refuse = False

        def send_task(self, name, args, retry=True, **options):
            if self.refuse:
                raise BrokerUnreachableError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
            self.sent.append((name, args, retry, options.get("task_id")))

    fake = Broker()
    fake.sent = []
    jobs.current_app.conf.task_always_eager = False  # tests/conftest.py's _celery_in_process restores it
    monkeypatch.setattr(jobs.current_app, "send_task", fake.send_task)
    monkeypatch.setattr(jobs, "_broker_unreachable_until", 0.0)
    return fake


def test_a_job_whose_send_fails_stays_queued_and_the_watchdog_sends_it_later(queued_job, broker, settings):
    # Given the broker refusing connections: the send fails without an error, the job stays queued
    broker.refuse = True
    assert jobs.job_send(GENERATION_JOB_RUN_TASK, args=[str(queued_job.pk)], task_id=queued_job.run_id) is False
    # and the next send in this process does not even try (no second wait on the dead broker)
    broker.refuse = False
    assert jobs.job_send(GENERATION_JOB_RUN_TASK, args=[str(queued_job.pk)], task_id=queued_job.run_id) is False
    assert broker.sent == []

    # When the broker is back and the watchdog runs once the job waited long enough
    jobs._broker_unreachable_until = 0.0
    settings.JOBS_QUEUED_RESEND_SECONDS = 0
    sent = jobs.jobs_watchdog_sweep()

    # Then the job is sent, without publish retries, under the new run id its row now names
    queued_job.refresh_from_db()
    assert sent[GENERATION_JOB_RUN_TASK] == 1
    assert broker.sent == [(GENERATION_JOB_RUN_TASK, [str(queued_job.pk)], False, queued_job.run_id)]
