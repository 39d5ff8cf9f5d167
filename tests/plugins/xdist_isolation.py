"""Each pytest-xdist worker gets services and files of its own.

pytest-django already gives every worker its own test database (``test_<name>_gw0``, ...).
Everything else the suite shares goes through the environment, and is split here, in the worker,
before Django reads its settings: pytest-django loads them in ``pytest_load_initial_conftests``,
before any conftest.py, so this module is loaded with ``-p`` (pyproject's ``addopts``) and wraps
that hook. xdist sets ``PYTEST_XDIST_WORKER`` (``gw0``, ``gw1``, ...) in the worker's environment
before the worker builds its configuration. For worker ``gwN``:

- Redis: database ``db + 1 + N`` of ``REDIS_URL`` (and of a Redis ``CELERY_BROKER_URL``). It holds
  the cache that every test flushes, the channel layer and the Celery broker queues, which the
  Celery workers and servers that tests/integration and tests/quality start inherit from the
  environment. The database the caller named is left to the serial runs.
- Runtime files: ``VAR_DIR`` becomes ``var/xdist/gwN`` (the embedded SQLite file, media and static
  files derive from it); a ``VAR_DIR``, ``MEDIA_ROOT`` or ``STATIC_ROOT`` the caller set gets
  ``xdist/gwN`` appended.
- Ports: ``free_port()`` hands each worker ports from a block of its own below the kernel's
  ephemeral range, so two workers never pick the same port between the pick and the bind, nor
  while a test restarts a server on its port.

Without xdist (``-n0`` or no ``-n``) nothing changes.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
from collections.abc import Generator, MutableMapping
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
REDIS_DATABASES = 16  # Redis' default `databases`
# Each worker's ports: a block below the default ephemeral range (32768-60999), where the kernel
# never hands out a port of its own choosing, neither for bind(0) nor for outgoing connections.
PORT_BLOCK_START = 20000
PORT_BLOCK_SIZE = 500

_port_offsets = itertools.count()


def worker_id() -> str | None:
    """``gw0``, ``gw1``, ... in an xdist worker; None in a serial run (or xdist's controller)."""
    return os.environ.get("PYTEST_XDIST_WORKER") or None


def worker_index() -> int | None:
    worker = worker_id()
    if worker is None:
        return None
    matched = re.fullmatch(r"gw(\d+)", worker)
    if matched is None:
        raise pytest.UsageError(f"unexpected PYTEST_XDIST_WORKER {worker!r} (xdist names its workers gw0, gw1, ...)")
    return int(matched.group(1))


def redis_url_for_worker(url: str, index: int) -> str:
    """``url`` on database ``db + 1 + index``; refuses past the last of Redis' 16 databases."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    in_query = parts.scheme == "unix" or "db" in query
    written = query.get("db") if in_query else parts.path.strip("/")
    database = int(written or 0) + 1 + index
    if database >= REDIS_DATABASES:
        raise pytest.UsageError(
            f"xdist worker gw{index} would use Redis database {database} of {url!r}, past the last one "
            f"({REDIS_DATABASES - 1}): give REDIS_URL a lower database number or run fewer workers (-n)"
        )
    if in_query:
        query["db"] = str(database)
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{database}"))


def isolate_worker_environment(environ: MutableMapping[str, str], worker: str, index: int) -> None:
    """Point ``environ``'s Redis database and runtime directories at worker ``worker``'s own."""
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = environ.get(name, "")
        if url.startswith(("redis://", "rediss://", "unix://")):
            environ[name] = redis_url_for_worker(url, index)
    for name in ("VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT"):
        if environ.get(name):
            environ[name] = str(Path(environ[name]) / "xdist" / worker)
    environ.setdefault("VAR_DIR", str(BASE_DIR / "var" / "xdist" / worker))
    Path(environ["VAR_DIR"]).mkdir(parents=True, exist_ok=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> Generator[None, None, None]:
    worker, index = worker_id(), worker_index()
    if worker is not None and index is not None:
        isolate_worker_environment(os.environ, worker, index)
    return (yield)


def _planned_workers(config: pytest.Config) -> int:
    """How many workers xdist starts (it turned ``-n auto`` into a number before ``pytest_configure``)."""
    if hasattr(config, "workerinput"):
        return 0
    numprocesses = getattr(config.option, "numprocesses", None)
    return numprocesses if isinstance(numprocesses, int) else 0


def pytest_configure(config: pytest.Config) -> None:
    """xdist's controller: refuse at once a ``-n`` that would run out of Redis databases."""
    workers = _planned_workers(config)
    for name in ("REDIS_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if workers and url.startswith(("redis://", "rediss://", "unix://")):
            redis_url_for_worker(url, workers - 1)


def pytest_report_header(config: pytest.Config) -> str | None:
    if not _planned_workers(config):
        return None
    return "xdist isolation: worker gwN uses Redis database db+1+N of REDIS_URL and VAR_DIR var/xdist/gwN"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now.

    In a serial run, the kernel's choice. In xdist worker ``gwN``, the next free port of the
    worker's own block, in turn, so no other worker can take it before the caller binds it.
    """
    index = worker_index()
    if index is None:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            return probe.getsockname()[1]
    first = PORT_BLOCK_START + index * PORT_BLOCK_SIZE
    for _ in range(PORT_BLOCK_SIZE):
        port = first + next(_port_offsets) % PORT_BLOCK_SIZE
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}-{first + PORT_BLOCK_SIZE - 1} for xdist worker gw{index}")
