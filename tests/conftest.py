"""Fixtures every test folder shares.

Tests that need a real service carry a marker (``postgres``, ``redis``, ``integration``), and
tests that run a program carry ``tool("nginx")``. When the service or program is missing they are
skipped on a developer's machine but *fail* in CI (``CI`` set), so nothing missing can turn the
suite green by skipping.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from celery._state import _set_task_join_will_block
from django.conf import settings
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts import services as account_services
from tests.factories import UserFactory

# The fake OpenAI server, the full stack's processes (shared by every folder, started once per
# session), the data migrations' rows reloaded after each flush (any test order works, as under
# xdist) and the quality gates' report (collected from every xdist worker by the controller).
pytest_plugins = [
    "tests.fakes.openai_server",
    "tests.plugins.live_stack",
    "tests.plugins.migrated_rows",
    "tests.plugins.quality_report",
]

IN_CI = bool(os.environ.get("CI"))
TESTS_DIR = Path(__file__).resolve().parent
QUALITY_DIR = TESTS_DIR / "quality"
INTEGRATION_DIR = TESTS_DIR / "integration"
TOOL_PACKAGES = {"nginx": "nginx-light", "node": "nodejs"}


def _missing_service(item: pytest.Item) -> str | None:
    integration = item.get_closest_marker("integration") is not None
    if (integration or item.get_closest_marker("postgres")) and not settings.USING_POSTGRES:
        return "needs PostgreSQL: set DATABASE_URL=postgres://..."
    if (integration or item.get_closest_marker("redis")) and not settings.REDIS_URL:
        return "needs Redis: set REDIS_URL=redis://..."
    return None


def _missing_tool(item: pytest.Item) -> str | None:
    """``@pytest.mark.tool("nginx")``: a program the test runs (installed by .ci/run in CI)."""
    from deploy.proxy import nginx_binary

    finders = {"nginx": nginx_binary}
    for marker in item.iter_markers("tool"):
        name = marker.args[0]
        found = finders[name]() if name in finders else shutil.which(name)
        if not found:
            return f"needs {name}: apt-get install -y {TOOL_PACKAGES.get(name, name)}"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    missing = _missing_service(item) or _missing_tool(item)
    if missing is None:
        return
    if IN_CI:
        pytest.fail(f"{missing} (CI must run this test against the real service)", pytrace=False)
    pytest.skip(missing)


_modules_starting_processes: set[Path] = set()


def _weight_class(item: pytest.Item) -> int:
    """0: the quality gates (fuzzing, worker kill, load, faults: the longest tests), 1: other modules
    that start real processes, 2: the rest."""
    module = Path(item.path)
    if module.is_relative_to(QUALITY_DIR):
        return 0
    if module.is_relative_to(INTEGRATION_DIR) or module in _modules_starting_processes:
        return 1
    return 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker, the modules that start real processes run first.

    xdist hands each worker a block of the collection and an idle worker takes tests from the end
    of a busy one's queue (``--dist worksteal``). With the long tests first, they start while the
    short ones are still there to fill the other worker's time, and the run does not end on one
    worker finishing a minute-long fuzzing test while the other waits. Whole modules move, in
    their own order (module fixtures, tests that rely on running last in their module). Every
    worker sorts its identical collection the same way, as xdist requires; serial runs keep the
    collection order.
    """
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    _modules_starting_processes.update(Path(item.path) for item in items if item.get_closest_marker("integration"))
    items.sort(key=_weight_class)


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _steady_rate_limit_clock(monkeypatch):
    """The limiter's clock stands still, 30 s into tomorrow's noon minute.

    Limits use fixed windows on the clock; a test that makes 100 requests on a slow machine
    could otherwise straddle a window boundary and see its counter reset halfway. Noon plus
    30 s is mid-window for 60 s, 15 min, 1 h and 1 day windows alike, and in the future, so a
    reset time is always later than the real now.
    """
    from core import ratelimit

    day = 86400
    frozen = (int(time.time()) // day + 1) * day + day // 2 + 30
    monkeypatch.setattr(ratelimit, "clock", lambda: float(frozen))


@pytest.fixture(autouse=True)
def _celery_in_process(request, settings):
    """Unit tests run tasks in-process, in the calling thread; integration tests talk to a real worker."""
    from config.celery import app

    settings.JOBS_IN_PROCESS = "inline"

    # Celery builds its router once per process; drop it so routes a test sets are read afresh.
    app.amqp._rtable = None
    app.amqp.__dict__.pop("router", None)
    # An eager apply_async() denies result.get() while the task runs by saving and restoring one
    # process-wide flag; two threads doing it at once (the concurrency tests) can leave it set, and
    # every later result.get() in this process would raise "Never call result.get() within a task".
    _set_task_join_will_block(False)
    if request.node.get_closest_marker("integration"):
        yield
        return
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


# --- The fixture vocabulary every folder shares (docs/testing.md, "Fixture vocabulary") -----------------


@pytest.fixture
def api_client() -> APIClient:
    """An anonymous client."""
    return APIClient()


@pytest.fixture
def user(db):
    """The person a test acts as: a platform user with no product state (folders add state by name)."""
    return UserFactory()


@pytest.fixture
def other_user(db):
    """Someone else, whose objects ``user`` must not reach."""
    return UserFactory()


@pytest.fixture
def staff_user(db):
    return UserFactory(is_staff=True)


@pytest.fixture
def api_product() -> str:
    """The product the folder's API accepts credentials of; each folder's conftest names its own."""
    return "platform"


@pytest.fixture
def client_of(api_product):
    """``client_of(some_user)``: a client signed in as ``some_user`` on the folder's API (a bearer
    access token of a new session of ``api_product``)."""

    def signed_in_as(some_user) -> APIClient:
        client = APIClient()
        client.credentials(**bearer_for(some_user, api_product))
        return client

    return signed_in_as


@pytest.fixture
def signed_in(client_of, user) -> APIClient:
    """A client signed in as ``user`` on the folder's API."""
    return client_of(user)


@pytest.fixture
def other_signed_in(client_of, other_user) -> APIClient:
    """A client signed in as ``other_user`` on the folder's API."""
    return client_of(other_user)


@pytest.fixture
def staff_signed_in(client_of, staff_user) -> APIClient:
    """A client signed in as ``staff_user`` on the folder's API."""
    return client_of(staff_user)


def bearer_for(user, product: str = "platform") -> dict[str, str]:
    """Headers that sign ``user`` in with a fresh session's access token."""
    issued = account_services.auth_session_start(user=user, product=product)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.tokens.access}"}
