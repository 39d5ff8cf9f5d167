"""What the servers the README starts trust, tried against the real processes.

`make run` (uvicorn) on a fresh runtime directory: its own keys, no debug page for a bad Host, no
trust in X-Forwarded-For, chunked bodies read in full and held to the body limit. gunicorn's sync
workers (the full stack's REST server, deploy/gunicorn.conf.py) read chunked bodies in full too.
Both need nothing but the repository, like the `make run` smoke test.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from collections.abc import Iterator

import httpx
import pytest

from tests.integration.conftest import REPO_ROOT, VENV_BIN, ManagedProcess, free_port, wait_for

READY_TIMEOUT_SECONDS = 120.0
FULL_STACK_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")
KEY_VARIABLES = ("SECRET_KEY", "JWT_SIGNING_KEY", "FIELD_ENCRYPTION_KEY", "DJANGO_DEBUG", "ENVIRONMENT")
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")
LOGIN = "/marketplace/v1/auth/login"
TWO_MEGABYTES = 2 * 1024 * 1024


def fresh_env(tmp_path, **extra: str) -> dict[str, str]:
    dropped = FULL_STACK_VARIABLES + KEY_VARIABLES + MAKE_VARIABLES + ("RATE_LIMIT_MULTIPLIER",)
    env = {name: value for name, value in os.environ.items() if name not in dropped}
    env.update(VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1", **extra)
    return env


def start(name: str, args: list[str], env: dict[str, str], tmp_path, base_url: str) -> ManagedProcess:
    server = ManagedProcess.start(name, args, env=env, log_dir=tmp_path)

    def healthy() -> bool:
        try:
            return httpx.get(f"{base_url}/health", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    if not wait_for(lambda: not server.alive or healthy(), timeout=READY_TIMEOUT_SECONDS, interval=0.5):
        server.fail(f"{name} did not answer /health within {READY_TIMEOUT_SECONDS:.0f}s")
    if not server.alive:
        server.fail(f"{name} exited")
    return server


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for start_at in range(0, len(data), size):
        yield data[start_at : start_at + size]


def post_chunked(base_url: str, path: str, body: bytes) -> httpx.Response:
    # A generator body has no known length: httpx sends it with Transfer-Encoding: chunked.
    return httpx.post(
        f"{base_url}{path}", content=chunks(body), headers={"Content-Type": "application/json"}, timeout=30.0
    )


WRONG_LOGIN = json.dumps({"walletAddress": "0x" + "a" * 40, "signature": "0x12", "message": "hello"}).encode()


def assert_chunked_bodies_are_read_and_limited(base_url: str) -> None:
    # a chunked body is read in full: the login sees its fields (an empty body would be a 400)
    r = post_chunked(base_url, LOGIN, WRONG_LOGIN)
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "INVALID_SIGNATURE"

    # and the body limit (2 MB here) holds for it: 413 in the API's envelope
    oversized = b'{"message": "' + b"x" * (TWO_MEGABYTES + 10) + b'"}'
    r = post_chunked(base_url, LOGIN, oversized)
    assert r.status_code == 413, r.text[:300]
    assert r.json()["error"]["code"] == "PAYLOAD_TOO_LARGE"


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_trusts_no_client_say_so(tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = fresh_env(tmp_path, HOST="127.0.0.1", PORT=str(port))
    server = start("make-run", ["make", "--no-print-directory", "-C", str(REPO_ROOT), "run"], env, tmp_path, base_url)
    try:
        # its own keys, generated on first start, readable by its owner only
        keys = tmp_path / "var" / "keys"
        for name in ("secret_key", "field_encryption_key"):
            assert stat.S_IMODE((keys / name).stat().st_mode) == 0o600, name
            assert len((keys / name).read_text().strip()) >= 44, name

        # a bad Host header gets a plain 400, never Django's debug page
        r = httpx.get(f"{base_url}/health", headers={"Host": "evil.example"}, timeout=5.0)
        assert r.status_code == 400, r.text[:300]
        for leak in ("DisallowedHost", "Traceback", "ALLOWED_HOSTS", "settings", str(REPO_ROOT)):
            assert leak not in r.text, leak

        assert_chunked_bodies_are_read_and_limited(base_url)

        # and a chunked write is stored whole (telemetry's key request carries only an address)
        r = post_chunked(base_url, "/telemetry/api/v1/keys", json.dumps({"email": "chunked@example.com"}).encode())
        assert r.status_code == 201, r.text

        # X-Forwarded-For is the client's own say-so: a new one per request resets no limit (the
        # marketplace's sign-in allows 10 a minute per client). The limiter's windows are fixed
        # minutes, so 20 requests may straddle a boundary, but one side of it holds at least 10 of
        # them: a 429 comes unless each forwarded address counted as a client of its own.
        statuses = [
            httpx.get(
                f"{base_url}/marketplace/v1/auth/nonce", headers={"X-Forwarded-For": f"203.0.113.{n}"}
            ).status_code
            for n in range(20)
        ]
        assert 429 in statuses, statuses
        assert set(statuses) <= {200, 429}, statuses
    finally:
        server.stop()


def test_gunicorn_sync_workers_read_chunked_bodies_in_full(tmp_path):
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = fresh_env(tmp_path, WSGI_BIND=f"127.0.0.1:{port}", WEB_CONCURRENCY="1")
    server = start(
        "gunicorn",
        [str(VENV_BIN / "gunicorn"), "config.wsgi:application", "-c", str(REPO_ROOT / "deploy" / "gunicorn.conf.py")],
        env,
        tmp_path,
        base_url,
    )
    try:
        assert_chunked_bodies_are_read_and_limited(base_url)
    finally:
        server.stop()
