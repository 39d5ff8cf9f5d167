"""deploy/gunicorn.conf.py: every knob from the environment, no client address in any log."""

import multiprocessing
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
KNOBS = ("WSGI_BIND", "WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "GUNICORN_MAX_REQUESTS", "GUNICORN_ACCESS_LOG")


@pytest.fixture
def clean_environment(monkeypatch):
    for name in KNOBS:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_defaults_are_sync_workers_twice_the_cores_on_loopback(clean_environment):
    conf = runpy.run_path(str(CONF))

    assert conf["worker_class"] == "sync"
    assert conf["workers"] == 2 * multiprocessing.cpu_count()
    assert conf["bind"] == ["127.0.0.1:8001"]
    assert conf["accesslog"] is None
    assert conf["graceful_timeout"] == 30
    assert conf["control_socket_disable"] is True


def test_environment_sets_workers_bind_and_timeouts(clean_environment):
    clean_environment.setenv("WSGI_BIND", "unix:/run/platform/wsgi.sock")
    clean_environment.setenv("WEB_CONCURRENCY", "7")
    clean_environment.setenv("GUNICORN_TIMEOUT", "45")
    clean_environment.setenv("GUNICORN_MAX_REQUESTS", "1000")

    conf = runpy.run_path(str(CONF))

    assert conf["bind"] == ["unix:/run/platform/wsgi.sock"]
    assert conf["workers"] == 7
    assert conf["timeout"] == 45
    assert (conf["max_requests"], conf["max_requests_jitter"]) == (1000, 100)


def test_access_log_when_turned_on_has_no_client_address_or_query(clean_environment):
    clean_environment.setenv("GUNICORN_ACCESS_LOG", "-")

    conf = runpy.run_path(str(CONF))

    assert conf["accesslog"] == "-"
    # %(h)s is the remote address, %(r)s and %(q)s carry the query string
    for atom in ("%(h)s", "%(r)s", "%(q)s", "{x-forwarded-for}"):
        assert atom not in conf["access_log_format"]
