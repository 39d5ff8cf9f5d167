"""Real processes on the full stack: Celery workers and an ASGI server, and the helpers that run them.

Registered from tests/conftest.py, so every test folder shares one ``asgi_server`` and one
``celery_worker`` per session (per xdist worker in a parallel run) instead of starting its own.
Both run against the *test* database pytest-django created (its name is only known once
``django_db_setup`` ran) and the Redis of ``REDIS_URL`` (under xdist, the worker's own database:
tests/plugins/xdist_isolation.py). Tests that use them are marked ``integration`` and
``django_db(transaction=True)``, so the rows they create are committed and the other processes see
them. Every process runs in its own process group and is killed at teardown, whatever happened;
every wait is bounded and fails with the end of the process's log.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import redis
from django.conf import settings
from kombu import Connection
from websockets.sync.client import ClientConnection, connect

from accounts import services as account_services
from config.celery import app as celery_app
from tests.plugins.xdist_isolation import free_port

REPO_ROOT = Path(settings.BASE_DIR)
VENV_BIN = Path(sys.executable).parent
READY_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 10.0
RECEIVE_TIMEOUT_SECONDS = 15.0
SILENCE_TIMEOUT_SECONDS = 1.0


def wait_for(condition: Callable[[], bool], *, timeout: float, interval: float = 0.2) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; True when it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


@dataclass
class ManagedProcess:
    """A child process in its own process group, with its output in a log file."""

    name: str
    popen: subprocess.Popen
    log_path: Path

    @classmethod
    def start(cls, name: str, args: list[str], *, env: dict[str, str], log_dir: Path) -> ManagedProcess:
        log_path = log_dir / f"{name}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                args, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        return cls(name=name, popen=popen, log_path=log_path)

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def fail(self, reason: str) -> None:
        pytest.fail(f"{self.name}: {reason}; exit code {self.popen.poll()}; log tail:\n{self.log_tail()}")

    def kill_group(self, sig: signal.Signals = signal.SIGKILL) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self) -> None:
        """SIGTERM the whole group, then SIGKILL whatever is left; never waits unbounded."""
        if self.alive:
            self.kill_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)
        # Children (a prefork pool) may outlive their parent; the group takes them too.
        self.kill_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=STOP_TIMEOUT_SECONDS)


def database_url_of_test_database() -> str:
    """``DATABASE_URL`` with the database name swapped for the test database's."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + settings.DATABASES["default"]["NAME"]))


@pytest.fixture(scope="session")
def stack_env(django_db_setup) -> dict[str, str]:
    """The environment of every process the integration tests start: the test database, same Redis."""
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url_of_test_database(),
        REDIS_URL=settings.REDIS_URL,
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="session")
def process_log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("integration-processes")


# --- Celery workers --------------------------------------------------------------------------------


@dataclass
class CeleryWorker:
    """A real ``celery worker`` consuming its own queue, so runs never take each other's tasks."""

    process: ManagedProcess
    queue: str
    hostname: str

    def ping(self) -> bool:
        try:
            return bool(celery_app.control.ping(destination=[self.hostname], timeout=0.5))
        except Exception:  # the broker connection may not be up yet; keep polling
            return False

    def wait_ready(self) -> None:
        if not wait_for(lambda: not self.process.alive or self.ping(), timeout=READY_TIMEOUT_SECONDS, interval=0.3):
            self.process.fail(f"no answer to ping within {READY_TIMEOUT_SECONDS:.0f}s")
        if not self.process.alive:
            self.process.fail("exited during start-up")


class CeleryWorkers:
    """Starts workers and stops every one of them (and forgets their queues) when closed."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.started: list[ManagedProcess] = []
        self.queues: set[str] = set()

    def start(self, *, queue: str | None = None, extra_env: dict[str, str] | None = None) -> CeleryWorker:
        """A ready worker on ``queue`` (a new one unless given, e.g. to restart a killed worker).

        Its broker is the environment's (``CELERY_BROKER_URL``, else ``REDIS_URL``); a test that
        runs workers on another broker builds its ``CeleryWorkers`` with that broker in the
        environment (tests/integration/conftest.py, ``job_broker``).
        """
        queue = queue or f"integration-{uuid.uuid4().hex[:12]}"
        self.queues.add(queue)
        hostname = f"{queue}-{len(self.started)}@integration"
        args = [
            str(VENV_BIN / "celery"),
            "-A",
            "config",
            "worker",
            "--pool=prefork",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-Q",
            queue,
            "-n",
            hostname,
            "-I",
            "tests.integration.tasks",
        ]
        name = f"celery-{hostname.split('@')[0]}"
        process = ManagedProcess.start(name, args, env={**self.env, **(extra_env or {})}, log_dir=self.log_dir)
        self.started.append(process)
        worker = CeleryWorker(process=process, queue=queue, hostname=hostname)
        worker.wait_ready()
        return worker

    def close(self) -> None:
        for process in self.started:
            process.stop()
        broker_url = self.env.get("CELERY_BROKER_URL") or settings.REDIS_URL
        if broker_url.startswith(("amqp://", "amqps://", "pyamqp://")):
            with Connection(broker_url, connect_timeout=5) as connection:
                channel = connection.channel()
                for queue in self.queues:
                    with contextlib.suppress(Exception):
                        channel.queue_delete(queue)
            return
        client = redis.Redis.from_url(broker_url, socket_timeout=5)
        for queue in self.queues:
            client.delete(queue, f"_kombu.binding.{queue}")


@pytest.fixture(scope="session")
def celery_worker(stack_env, process_log_dir) -> Iterator[CeleryWorker]:
    """One worker shared by the tests that only need tasks to run in another process."""
    workers = CeleryWorkers(stack_env, process_log_dir)
    try:
        yield workers.start()
    finally:
        workers.close()


@pytest.fixture
def celery_worker_factory(stack_env, process_log_dir) -> Iterator[Callable[..., CeleryWorker]]:
    """Start workers of a test's own (to kill them, restart them); all stopped when the test ends."""
    workers = CeleryWorkers(stack_env, process_log_dir)
    try:
        yield workers.start
    finally:
        workers.close()


# --- ASGI server and WebSocket clients --------------------------------------------------------------


@dataclass(frozen=True)
class AsgiServer:
    process: ManagedProcess
    port: int

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"


def health_answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def asgi_server(stack_env, process_log_dir) -> Iterator[AsgiServer]:
    """``uvicorn config.asgi:application`` on a free port, ready once /health answers 200."""
    port = free_port()
    args = [
        str(VENV_BIN / "uvicorn"),
        "config.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--lifespan",
        "off",
        "--no-access-log",
    ]
    process = ManagedProcess.start("uvicorn", args, env=stack_env, log_dir=process_log_dir)
    server = AsgiServer(process=process, port=port)
    try:
        ready = wait_for(lambda: not process.alive or health_answers(server.http_url), timeout=READY_TIMEOUT_SECONDS)
        if not ready or not process.alive:
            process.fail(f"/health did not answer 200 within {READY_TIMEOUT_SECONDS:.0f}s")
        yield server
    finally:
        process.stop()


def receive_event(socket_: ClientConnection, timeout: float = RECEIVE_TIMEOUT_SECONDS) -> dict:
    return json.loads(socket_.recv(timeout=timeout))


def assert_receives_nothing(socket_: ClientConnection, timeout: float = SILENCE_TIMEOUT_SECONDS) -> None:
    try:
        message = socket_.recv(timeout=timeout)
    except TimeoutError:
        return
    pytest.fail(f"expected no message, got {message!r}")


@pytest.fixture
def open_user_socket(asgi_server) -> Iterator[Callable[..., ClientConnection]]:
    """Open a real WebSocket to the live server, signed in as a user with a fresh session's JWT.

    Returns once the server said ``connected``, which it does only after the socket joined the
    user's group, so an event published from then on reaches it.
    """
    with contextlib.ExitStack() as sockets:

        def open_socket(user, path: str = "/coder/ws", product: str = "coder") -> ClientConnection:
            issued = account_services.auth_session_start(user=user, product=product)
            url = f"{asgi_server.ws_url}{path}?token={issued.tokens.access}"
            socket_ = sockets.enter_context(connect(url, open_timeout=10, close_timeout=2))
            hello = receive_event(socket_)
            assert hello == {"event": "connected", "data": {"userId": str(user.pk)}}, hello
            return socket_

        yield open_socket
