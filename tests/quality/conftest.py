"""The quality gates' live stack: the REST server as deployed (gunicorn) and its environment.

Every server here runs against the test database pytest-django created and the Redis of
``REDIS_URL`` (the integration fixtures' ``stack_env``), on a free loopback port, in a process
group of its own that is killed at teardown. Outgoing HTTP from the servers goes through a proxy
address where nothing listens (``HTTP(S)_PROXY``), so a fuzzer that registers a webhook or an
outside URL can never make the platform send traffic off this machine. What the gates measured
is reported through the ``quality_report`` fixture (tests/plugins/quality_report.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.conf import settings

from tests.plugins.live_stack import VENV_BIN, ManagedProcess, health_answers, wait_for
from tests.plugins.xdist_isolation import free_port

READY_TIMEOUT_SECONDS = 90.0
# Nothing listens on the discard port: any request the servers make off-host fails at once.
DEAD_PROXY = "http://127.0.0.1:9"


def isolated_env(base_env: dict[str, str], **overrides: str) -> dict[str, str]:
    """``stack_env`` for a server under test: no outside traffic, limits far above any test's volume."""
    env = dict(base_env)
    for name in ("LLM_BASE_URL", "LLM_API_KEY", "ETH_RPC_URL", "MARKETPLACE_ETH_RPC_URL", "GITHUB_API_URL"):
        env.pop(name, None)
    env.update(
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        ALL_PROXY=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        all_proxy=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
        GITHUB_API_URL=DEAD_PROXY,
        STRIPE_API_URL=DEAD_PROXY,
        RATE_LIMIT_MULTIPLIER="1000",
        # Production settings, with the keys of this test process so the tokens it mints verify.
        DJANGO_DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,
        JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
        SECURE_SSL_REDIRECT="0",
        # Production refuses to encrypt fields without it (cerebro's secret memories).
        FIELD_ENCRYPTION_KEY="quality-gates-field-encryption-key",
        # No DNS lookups of the fuzzer's made-up webhook hosts (the SSRF guard would ask the
        # resolver for each); deliveries still go nowhere through the dead proxy. The guard has
        # its own tests (test_ssrf.py).
        MARKETPLACE_WEBHOOK_ALLOW_PRIVATE_TARGETS="1",
    )
    env.update(overrides)
    return env


@dataclass
class LiveServer:
    process: ManagedProcess
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_gunicorn(name: str, env: dict[str, str], log_dir, *, workers: int = 3, extra_args=()) -> LiveServer:
    """The REST server as ``deploy/`` runs it, on a free port, ready once /health answers 200."""
    port = free_port()
    args = [
        str(VENV_BIN / "gunicorn"),
        "config.wsgi:application",
        "--config",
        "deploy/gunicorn.conf.py",
        *extra_args,
    ]
    server_env = {**env, "WSGI_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    process = ManagedProcess.start(name, args, env=server_env, log_dir=log_dir)
    server = LiveServer(process=process, port=port)
    ready = wait_for(lambda: not process.alive or health_answers(server.url), timeout=READY_TIMEOUT_SECONDS)
    if not ready or not process.alive:
        process.stop()
        process.fail(f"/health did not answer 200 within {READY_TIMEOUT_SECONDS:.0f}s")
    return server


@pytest.fixture(scope="session")
def quality_server(stack_env, process_log_dir) -> Iterator[LiveServer]:
    """gunicorn (sync workers, deploy/gunicorn.conf.py) serving every REST API to the fuzzer.

    Request-line and header limits are lifted: in production nginx answers an over-long URL with
    414 before the application sees it, and that is the proxy's contract, not the API's.
    """
    server = start_gunicorn(
        "gunicorn-quality",
        isolated_env(stack_env),
        process_log_dir,
        extra_args=("--limit-request-line", "0", "--limit-request-field_size", "0"),
    )
    try:
        yield server
    finally:
        server.process.stop()
