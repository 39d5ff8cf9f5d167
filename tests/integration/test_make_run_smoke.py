"""`make run` on the embedded default serves a healthy platform (the README's first command).

No service marker: it needs nothing but the repository, so it runs in both CI passes. It gets its
own runtime directory (``VAR_DIR``), so it migrates a fresh SQLite database and never touches the
developer's ``var/``.
"""

import os
import shutil

import httpx
import pytest

from tests.integration.conftest import REPO_ROOT, ManagedProcess, free_port, wait_for

# The first `make run` on a machine may still install the pinned requirements.
READY_TIMEOUT_SECONDS = 120.0
FULL_STACK_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_TASK_ALWAYS_EAGER")
# A `make test` run passes its own make's state down; the inner make must start afresh.
MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


@pytest.fixture
def embedded_env(tmp_path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in FULL_STACK_VARIABLES + MAKE_VARIABLES}
    env.update(HOST="127.0.0.1", PORT=str(free_port()), VAR_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    return env


def health(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=2.0)
    except httpx.HTTPError:
        return None


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_run_serves_a_healthy_platform_on_the_embedded_default(embedded_env, tmp_path):
    # Given a clean runtime directory and no full-stack settings
    url = f"http://{embedded_env['HOST']}:{embedded_env['PORT']}/health"

    # When `make run` starts
    server = ManagedProcess.start(
        "make-run", ["make", "--no-print-directory", "-C", str(REPO_ROOT), "run"], env=embedded_env, log_dir=tmp_path
    )
    try:
        answered = wait_for(
            lambda: not server.alive or getattr(health(url), "status_code", None) == 200,
            timeout=READY_TIMEOUT_SECONDS,
            interval=0.5,
        )
        if not answered or not server.alive:
            server.fail(f"GET /health did not answer 200 within {READY_TIMEOUT_SECONDS:.0f}s")
        response = health(url)

        # Then /health answers 200, healthy, on the embedded backends
        assert response is not None
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["status"] == "healthy", body
        checks = body["checks"]
        assert checks["database"]["backend"] == "sqlite", checks
        assert checks["cache"]["backend"] == "locmem", checks
        assert checks["broker"]["backend"] == "in-process", checks
        assert checks["channel_layer"]["backend"] == "InMemoryChannelLayer", checks
        # And it migrated its own database, in the runtime directory it was given
        assert (tmp_path / "var" / "db.sqlite3").exists()
    finally:
        server.stop()
