"""Faults with real services: Redis going away and PostgreSQL restarting under load.

The machine's shared PostgreSQL and Redis are never touched: each test starts its own throwaway
server (tests/quality/throwaway.py) and a gunicorn pointed at it, and stops both at the end.

- Redis down: everything that does not need Redis is still served (the rate limiter fails open,
  cache reads miss, a job whose send failed stays queued and is sent again by the upkeep); what does
  need it says so (a 503 SERVICE_UNAVAILABLE in the API's envelope, /health names the checks that
  failed). When Redis is back, limits are counted again, without restarting anything.
- PostgreSQL restarted under load: requests during the outage answer 503 SERVICE_UNAVAILABLE in
  their envelope, the same gunicorn workers serve again once it is back (CONN_HEALTH_CHECKS), and
  every request that was answered 201 is stored.
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from django.conf import settings

from accounts import services as account_services
from cerebro.models import KnowledgeChunk, Upload
from coder.models import CoderAccount, Task
from tests.coder.factories import AIModelFactory, CoderAccountFactory, RepositoryFactory
from tests.coder.local_git import make_bare_repository
from tests.factories import UserFactory
from tests.integration.conftest import VENV_BIN, ManagedProcess, database_url_of_test_database, wait_for
from tests.quality.conftest import LiveServer, isolated_env, start_gunicorn
from tests.quality.throwaway import ThrowawayPostgres, ThrowawayRedis

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

RECOVERY_TIMEOUT_SECONDS = 30.0


def register_payload(install_id: str) -> dict:
    """An analytics install registration (no credential needed, one row per install id)."""
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return {
        "user_id": install_id,
        "registration_date": now,
        "system_info": {
            "platform": "Linux",
            "platform_version": "6.5.0",
            "architecture": "x64",
            "python_version": "3.12.1",
            "jeeves_version": "1.2.0",
        },
        "privacy_consent": {
            "privacy_policy_version": "1.0.0",
            "consent_date": now,
            "analytics_enabled": True,
            "code_safety_acknowledged": True,
        },
    }


def bearer(user, product: str) -> dict[str, str]:
    issued = account_services.auth_session_start(user=user, product=product)
    return {"Authorization": f"Bearer {issued.tokens.access}"}


# --- Redis down -------------------------------------------------------------------------------------


@pytest.fixture
def throwaway_redis(tmp_path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(directory=tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server_on_throwaway_redis(stack_env, process_log_dir, throwaway_redis) -> Iterator[LiveServer]:
    env = isolated_env(stack_env, REDIS_URL=throwaway_redis.url, CELERY_BROKER_URL=throwaway_redis.url)
    server = start_gunicorn("gunicorn-redis-fault", env, process_log_dir, workers=2)
    try:
        yield server
    finally:
        server.process.stop()


def test_with_redis_down_the_apis_serve_what_does_not_need_it_and_say_what_does(
    server_on_throwaway_redis, throwaway_redis
):
    url = server_on_throwaway_redis.url
    user = UserFactory()
    marketplace, coder, cerebro = bearer(user, "marketplace"), bearer(user, "coder"), bearer(user, "cerebro")
    client = httpx.Client(base_url=url, timeout=30)

    # Given the full stack answering, with its requests counted in Redis
    assert (r := client.get("/health")).status_code == 200, r.text
    assert "X-RateLimit-Limit" in client.get("/coder/api/ai-models").headers

    # When Redis goes away
    throwaway_redis.stop()

    # Then reads and writes that do not need Redis are served, uncounted (no made-up limit headers)
    served = {
        "GET /coder/api/ai-models": client.get("/coder/api/ai-models"),
        "GET /coder/api/users/me": client.get("/coder/api/users/me", headers=coder),
        "GET /marketplace/v1/datasets": client.get("/marketplace/v1/datasets"),
        "GET /marketplace/v1/users/profile": client.get("/marketplace/v1/users/profile", headers=marketplace),
        "GET /cerebro/api/history": client.get("/cerebro/api/history", headers=cerebro),
        "POST /cerebro/api/ledger/objects": client.post(
            "/cerebro/api/ledger/objects", json={"typeName": "contract", "data": {"a": 1}}, headers=cerebro
        ),
        "POST /analytics/api/v1/users/register": client.post(
            "/analytics/api/v1/users/register", json=register_payload(secrets.token_hex(8))
        ),
        "GET /telemetry/health": client.get("/telemetry/health"),
    }
    for name, response in served.items():
        assert response.status_code in (200, 201), (name, response.status_code, response.text[:300])
        assert "X-RateLimit-Limit" not in response.headers, name

    # And a write that starts a job is stored, its job left queued for the upkeep to send (not a 500)
    started = time.monotonic()
    created = client.post(
        "/marketplace/v1/datasets",
        json={
            "name": "Made while Redis was down",
            "description": "d",
            "category": "finance",
            "datasetType": "custom",
            "schema": [{"name": "amount", "type": "float"}],
            "config": {"rows": 10, "format": "json"},
        },
        headers=marketplace,
    )
    assert created.status_code == 201, created.text[:300]
    assert created.json()["generationJob"]["status"] == "queued"
    assert time.monotonic() - started < 10, "the answer waited on the unreachable broker"

    # And /health says which dependencies are down
    health = client.get("/health")
    assert health.status_code == 503, health.text
    checks = health.json()["checks"]
    assert checks["database"]["status"] == "healthy"
    assert {name for name, check in checks.items() if check["status"] == "unhealthy"} >= {"cache", "broker"}

    # When Redis is back on the same address
    throwaway_redis.start()

    # Then requests are counted again and /health recovers, with no restart of the app
    assert wait_for(lambda: client.get("/health").status_code == 200, timeout=RECOVERY_TIMEOUT_SECONDS)
    assert "X-RateLimit-Limit" in client.get("/coder/api/ai-models").headers


# --- Broker down: committed writes answered, their jobs run once it is back ---------------------------


@pytest.fixture
def stack_on_throwaway_redis(stack_env, process_log_dir, throwaway_redis, tmp_path):
    """gunicorn, a Celery worker and beat, all on the throwaway Redis; the watchdog sweeps every second."""
    env = isolated_env(
        stack_env,
        REDIS_URL=throwaway_redis.url,
        CELERY_BROKER_URL=throwaway_redis.url,
        JOBS_WATCHDOG_SECONDS="1",
        JOBS_QUEUED_RESEND_SECONDS="2",
        CODER_ALLOW_FILE_REPOSITORIES="1",
    )
    server = start_gunicorn("gunicorn-broker-fault", env, process_log_dir, workers=2)
    celery = str(VENV_BIN / "celery")
    worker = ManagedProcess.start(
        "celery-broker-fault",
        [celery, "-A", "config", "worker", "--pool=prefork", "--concurrency=1", "--loglevel=INFO", "-n", "fault@%h"],
        env=env,
        log_dir=process_log_dir,
    )
    beat = ManagedProcess.start(
        "celery-beat-broker-fault",
        [celery, "-A", "config", "beat", "--loglevel=INFO", "--schedule", str(tmp_path / "beat-schedule")],
        env=env,
        log_dir=process_log_dir,
    )
    try:
        yield server, worker, beat
    finally:
        for process in (beat, worker, server.process):
            process.stop()


def test_with_the_broker_down_coder_and_cerebro_answer_committed_writes_and_run_their_jobs_once_it_is_back(
    stack_on_throwaway_redis, throwaway_redis, tmp_path
):
    server, worker, beat = stack_on_throwaway_redis
    client = httpx.Client(base_url=server.url, timeout=30)
    owner = UserFactory()
    CoderAccountFactory(user=owner, credits=100)
    repository = RepositoryFactory(user=owner, clone_url=make_bare_repository(tmp_path / "git").url, github_id=None)
    ai_model = AIModelFactory(capabilities=["ask"])

    # Given the broker (Redis) gone
    throwaway_redis.stop()

    # When a coder task is created and a text file uploaded to cerebro's knowledge base
    started = time.monotonic()
    created = client.post(
        "/coder/api/tasks",
        json={
            "repositoryId": str(repository.pk),
            "aiModelId": str(ai_model.pk),
            "title": "What does login do?",
            "prompt": "Explain login() in src/auth/login.py",
            "type": "ask",
        },
        headers=bearer(owner, "coder"),
    )
    uploaded = client.post(
        "/cerebro/api/files/upload",
        files={"file": ("notes.txt", b"The heartbeat of a job is beaten while it runs.", "text/plain")},
        headers=bearer(owner, "cerebro"),
    )

    # Then both committed writes are answered as successes, at once, their work waiting
    assert created.status_code == 201, created.text[:300]
    assert uploaded.status_code == 200, uploaded.text[:300]
    assert time.monotonic() - started < 10, "the answers waited on the unreachable broker"
    task = Task.objects.get(pk=created.json()["data"]["id"])
    upload = Upload.objects.get(pk=uploaded.json()["id"])
    assert (task.status, upload.knowledge_status) == ("pending", "pending")
    assert CoderAccount.objects.get(user=owner).credits == 100 - task.estimated_credits

    # When the broker is back (the worker and beat reconnect by themselves)
    throwaway_redis.start()

    # Then the watchdog sends both jobs, and the worker runs each once
    def done() -> bool:
        return (
            Task.objects.filter(pk=task.pk, status="completed").exists()
            and Upload.objects.filter(pk=upload.pk, knowledge_status="indexed").exists()
        )

    if not wait_for(done, timeout=RECOVERY_TIMEOUT_SECONDS * 3, interval=0.5):
        pytest.fail(
            f"not run after the broker came back: task {Task.objects.get(pk=task.pk).status}, "
            f"upload {Upload.objects.get(pk=upload.pk).knowledge_status}\n"
            f"worker: {worker.log_tail()}\nbeat: {beat.log_tail(1500)}"
        )
    task.refresh_from_db()
    assert task.attempts == 1 and task.settled_at is not None
    assert CoderAccount.objects.get(user=owner).credits == 100  # the offline model is free: all refunded
    assert KnowledgeChunk.objects.filter(upload_id=upload.pk).count() == 1


# --- PostgreSQL restarted under load ----------------------------------------------------------------


@pytest.fixture
def throwaway_postgres(django_db_setup) -> Iterator[tuple[ThrowawayPostgres, str]]:
    """A cluster of its own holding a copy of the test database (schema and reference rows)."""
    # Not under pytest's temporary directory: its 0700 parents would keep the postgres user out.
    directory = Path(tempfile.mkdtemp(prefix="quality-postgres-"))
    cluster = ThrowawayPostgres(directory=directory / "cluster")
    try:
        os.chmod(directory, 0o755)
        cluster.init()
        cluster.start()
        database = "quality_faults"
        cluster.copy_database_from(database_url_of_test_database(), database)
        yield cluster, database
    finally:
        cluster.stop(mode="immediate")
        shutil.rmtree(directory, ignore_errors=True)


def _worker_pids(master_pid: int) -> set[int]:
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:
            pids.add(int(stat.parent.name))
    return pids


def test_postgres_restarted_under_load_answers_503_then_recovers_and_keeps_every_acknowledged_write(
    stack_env, process_log_dir, throwaway_postgres
):
    cluster, database = throwaway_postgres
    env = isolated_env(stack_env, DATABASE_URL=cluster.url(database), DATABASE_CONN_MAX_AGE="60")
    server = start_gunicorn("gunicorn-postgres-fault", env, process_log_dir, workers=2)
    try:
        workers_before = _worker_pids(server.process.popen.pid)
        outcomes: list[tuple[float, str, int, dict | None]] = []
        stop = threading.Event()
        ids = (secrets.token_hex(8) for _ in itertools.count())
        lock = threading.Lock()

        def load() -> None:
            with httpx.Client(base_url=server.url, timeout=30) as client:
                while not stop.is_set():
                    with lock:
                        install_id = next(ids)
                    try:
                        r = client.post("/analytics/api/v1/users/register", json=register_payload(install_id))
                        body = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
                        outcome = (time.monotonic(), install_id, r.status_code, body)
                    except httpx.HTTPError as exc:
                        outcome = (time.monotonic(), install_id, -1, {"transport": type(exc).__name__})
                    with lock:
                        outcomes.append(outcome)

        # Given writes flowing from four clients
        with ThreadPoolExecutor(max_workers=4) as pool:
            for _ in range(4):
                pool.submit(load)
            assert wait_for(lambda: sum(o[2] == 201 for o in outcomes) >= 20, timeout=RECOVERY_TIMEOUT_SECONDS)

            # When PostgreSQL stops for a few seconds and starts again
            cluster.stop(mode="fast")
            outage_started = time.monotonic()
            time.sleep(3)
            cluster.start()
            back_at = time.monotonic()

            # Then the service recovers by itself: writes succeed again
            def recovered() -> bool:
                return sum(o[2] == 201 and o[0] > back_at for o in outcomes) >= 20

            recovered_in_time = wait_for(recovered, timeout=RECOVERY_TIMEOUT_SECONDS)
            stop.set()
        assert recovered_in_time, process_tail(server)

        # And every answer was a success or a 503 in the analytics envelope
        statuses = {o[2] for o in outcomes}
        assert statuses <= {201, 503}, (statuses, [o for o in outcomes if o[2] not in (201, 503)][:5])
        unavailable = [o for o in outcomes if o[2] == 503]
        assert unavailable, "no request fell in the outage"
        for _at, _id, _status, body in unavailable:
            assert body["status"] == "error" and body["error"]["code"] == "SERVICE_UNAVAILABLE", body
        assert all(o[0] >= outage_started - 1 for o in unavailable)

        # And no worker was restarted to get there
        assert _worker_pids(server.process.popen.pid) == workers_before

        # And every write answered 201 is stored
        acknowledged = [o[1] for o in outcomes if o[2] == 201]
        stored = cluster.psql(
            database,
            "SELECT count(*) FROM analytics_users WHERE user_id IN ({})".format(
                ",".join(f"'{install_id}'" for install_id in acknowledged)
            ),
        )
        assert int(stored) == len(acknowledged), (stored, len(acknowledged))
        print(  # noqa: T201 - figures of the run, shown with -s
            f"postgres restart: {len(acknowledged)} writes acknowledged and stored, {len(unavailable)} answered 503"
        )
    finally:
        server.process.stop()


def process_tail(server: LiveServer) -> str:
    return server.process.log_tail()


def test_the_fixtures_never_point_at_the_shared_services():
    # The throwaway servers live on ports of their own; the shared ones are left alone.
    assert ":5432/" not in ThrowawayPostgres(directory=Path("/nonexistent"), port=55432).url("x")
    assert settings.DATABASES["default"]["NAME"].startswith("test_")
