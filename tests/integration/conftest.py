"""The integration tests' processes (Celery workers, the ASGI server) live in tests/plugins/live_stack.py.

That plugin is registered from tests/conftest.py, so its fixtures (``stack_env``, ``asgi_server``,
``celery_worker``, ``celery_worker_factory``, ``open_user_socket``) are shared by every folder and
each starts once per session. Request them by name: importing a fixture into a module would give
that module a copy of its own, and a session-scoped server of its own. The helpers are importable
from here as before.
"""

from tests.plugins.live_stack import (
    REPO_ROOT,
    VENV_BIN,
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
    "ManagedProcess",
    "assert_receives_nothing",
    "database_url_of_test_database",
    "free_port",
    "health_answers",
    "receive_event",
    "wait_for",
]
