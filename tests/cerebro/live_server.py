"""A real ASGI server (uvicorn) serving the project in a thread of the test process.

In-process so it shares the test database on both backends (SQLite's shared in-memory database,
or PostgreSQL's test database); tests that use it need ``transactional_db`` so their rows are
committed where the server's connections can see them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest
import uvicorn


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def asgi_server(transactional_db) -> Iterator[str]:
    """The base URL of a uvicorn server running config.asgi:application."""
    from django.db import connections

    from config.asgi import application

    # Django under ASGI opens a connection per request thread; without persistence each one is
    # closed when its request finishes (as Django recommends for ASGI), so none outlives the test.
    database_settings = connections.settings["default"]
    previous_max_age = database_settings.get("CONN_MAX_AGE", 0)
    database_settings["CONN_MAX_AGE"] = 0
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(application, host="127.0.0.1", port=port, lifespan="off", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    database_settings["CONN_MAX_AGE"] = previous_max_age
