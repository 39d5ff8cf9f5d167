"""`make run`'s output is worth reading: a first screen without warnings, then one line per API call.

`make run` starts for real on the embedded default (a free port, a throwaway ``VAR_DIR``), then
takes the requests a newcomer's first minutes make: the health check, the docs page and its static
files, a file uploaded (which runs a job in-process), downloaded (a streamed file) and a chat
answer (Server-Sent Events). Everything the process printed is then read back. Before this test,
such a session printed kombu's "No hostname was supplied" on the first job, an INFO line routed
``<unresolved>`` for every static file, and Django's "StreamingHttpResponse must consume
synchronous iterators" warning for every file sent.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time

import httpx
import pytest

from tests.integration.conftest import REPO_ROOT, ManagedProcess, free_port, wait_for
from tests.integration.test_make_run_smoke import FULL_STACK_VARIABLES, MAKE_VARIABLES, READY_TIMEOUT_SECONDS, health

# What must never be printed on a supported configuration: a Python warning, a log record at
# WARNING or above, a traceback, Django's system-check report, kombu's broker notice, a request
# whose route is unknown.
NOISE = re.compile(r"Warning:|WARNING|ERROR|CRITICAL|Traceback|System check identified|No hostname|<unresolved>")
STATIC_FILE = "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui.css"
UPLOADED = b"The first hour of a newcomer, in a text file the knowledge base indexes.\n" * 40

MINT_CEREBRO_TOKEN = """
import django
django.setup()
from accounts.models import User
from accounts.services import auth_session_start
user, _ = User.objects.get_or_create(username="first-hour", defaults={"email": "first-hour@example.com"})
print(auth_session_start(user=user, product="cerebro").tokens.access)
"""


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    left_out = (*FULL_STACK_VARIABLES, *MAKE_VARIABLES, "LOG_LEVEL")
    env = {name: value for name, value in os.environ.items() if name not in left_out}
    env.update(HOST="127.0.0.1", PORT=str(free_port()), VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    return env


def cerebro_token(env: dict[str, str]) -> str:
    """An access token for cerebro, minted into the server's own database (the same VAR_DIR)."""
    minted = subprocess.run(
        [sys.executable, "-c", MINT_CEREBRO_TOKEN],
        cwd=REPO_ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert minted.returncode == 0, minted.stderr
    return minted.stdout.strip()


def printed_since(server: ManagedProcess, offset: int) -> list[str]:
    return [line for line in server.log_path.read_bytes()[offset:].decode().splitlines() if line.strip()]


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_prints_no_warning_and_one_line_per_api_call(embedded_env, tmp_path):
    # Given `make run` on the embedded default, answering its health check
    base = f"http://{embedded_env['HOST']}:{embedded_env['PORT']}"
    server = ManagedProcess.start(
        "make-run-logs",
        ["make", "--no-print-directory", "-C", str(REPO_ROOT), "run"],
        env=embedded_env,
        log_dir=tmp_path,
    )
    try:
        if (
            not wait_for(
                lambda: not server.alive or getattr(health(f"{base}/health"), "status_code", None) == 200,
                timeout=READY_TIMEOUT_SECONDS,
                interval=0.5,
            )
            or not server.alive
        ):
            server.fail(f"GET /health did not answer 200 within {READY_TIMEOUT_SECONDS:.0f}s")
        offset = server.log_path.stat().st_size
        printed_before = printed_since(server, 0)
        # The first screen: what `make run` printed before the first log record (the health check's).
        first_screen = printed_before[: next(i for i, line in enumerate(printed_before) if line.startswith("{"))]
        token = cerebro_token(embedded_env)
        bearer = {"Authorization": f"Bearer {token}"}

        # When a newcomer's first requests are made: an API call, the docs page and a static file it
        # loads, a file uploaded (a job runs in-process) and downloaded (streamed), a chat (SSE)
        with httpx.Client(base_url=base, timeout=60.0) as http:
            assert (r := http.get("/health")).status_code == 200, r.text
            assert (r := http.get("/api/docs/")).status_code == 200, r.text
            static = http.get(STATIC_FILE)
            assert static.status_code == 200 and static.content
            uploaded = http.post(
                "/cerebro/api/files/upload", headers=bearer, files={"file": ("notes.txt", UPLOADED, "text/plain")}
            )
            assert uploaded.status_code == 200, uploaded.text
            downloaded = http.get(uploaded.json()["url"])
            assert downloaded.status_code == 200 and downloaded.content == UPLOADED
            chat = http.post(
                "/cerebro/api/chat", headers=bearer, json={"messages": [{"role": "user", "content": "Hello"}]}
            )
            assert chat.status_code == 200, chat.text
            assert "event: done" in chat.text
        time.sleep(1.0)  # lines of the last request reach the log file
        printed = printed_since(server, offset)
    finally:
        server.stop()

    # Then the first screen (installing, migrating, the address served) holds no warning
    assert [line for line in first_screen if NOISE.search(line)] == [], "\n".join(first_screen)
    assert any(line.startswith("Serving every API on http://") for line in first_screen), "\n".join(first_screen)

    # And the requests printed JSON lines only: one INFO line per API call (its route pattern), the
    # in-process job's own line, none for the static file, and nothing at WARNING or above
    assert [line for line in printed if not line.startswith("{")] == [], printed
    entries = [json.loads(line) for line in printed]
    assert {entry["level"] for entry in entries} == {"INFO"}, printed
    assert [entry["route"] for entry in entries if entry["logger"] == "core.access"] == [
        "/health",
        "/api/docs/",
        "/cerebro/api/files/upload",
        "/cerebro/api/files/download/<str:token>",
        "/cerebro/api/chat",
    ], printed
    assert {entry["logger"] for entry in entries} <= {"core.access", "celery.app.trace"}, printed
    assert [line for line in printed if NOISE.search(line)] == [], printed
