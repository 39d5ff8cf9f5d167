# ruff: noqa: N999 - gunicorn's documented name for a config file
"""Gunicorn settings for the REST APIs in the full stack (`make serve-wsgi`, the supervisord program `web`).

Sync workers: every API view is a plain Django view, and measured on this machine a sync worker
answers several times the requests of Django's ASGI handler, which hops to a thread for each sync
view (docs/BENCHMARKS.md). WebSockets and the SSE chat stream go to the ASGI server instead; the
reverse proxy (deploy/nginx.conf) routes by path and buffers slow clients so a sync worker never
waits on one.

Every knob comes from the environment:
    WSGI_BIND               address to listen on, host:port or unix:/path (127.0.0.1:8001)
    WEB_CONCURRENCY         worker processes (2 x CPU cores)
    GUNICORN_TIMEOUT        seconds a worker may spend on one request before it is replaced (30)
    GUNICORN_GRACEFUL_TIMEOUT  seconds in-flight requests get to finish on shutdown/reload (30)
    GUNICORN_MAX_REQUESTS   recycle a worker after this many requests, 0 = never (0)
    FORWARDED_ALLOW_IPS     proxies whose X-Forwarded-Proto is believed (127.0.0.1)
    GUNICORN_ACCESS_LOG     "-" for an access log on stdout (off by default); its format
                            leaves out the client address either way
    GUNICORN_PIDFILE        the master's pid file ($VAR_DIR/run/gunicorn.pid)
    GUNICORN_PRELOAD        "0" to load the application in each worker instead of once in the
                            master (1)

The master loads the application and every URL's view before it forks its workers (preload): a
worker that dies is replaced at once by a fork, already warm, and the workers share the
master's memory. A new release therefore needs a restart of the master (`make ctl ARGS="restart
web"`); `kill -HUP` only replaces the workers with forks of the same code.
"""

import multiprocessing
import os
from pathlib import Path


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = [os.environ.get("WSGI_BIND") or "127.0.0.1:8001"]
worker_class = "sync"
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") != "0"
workers = _int("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count())
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
max_requests = _int("GUNICORN_MAX_REQUESTS", 0)
max_requests_jitter = max_requests // 10
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"

# The worker heartbeat file lives in memory where there is a tmpfs (containers often have a slow
# or overlay /tmp, which can make healthy workers look stuck).
if os.path.isdir("/dev/shm"):  # noqa: S108 - a heartbeat file, not data
    worker_tmp_dir = "/dev/shm"  # noqa: S108

# No access log by default: the application logs each request with its id. When one is turned on,
# its format has no client address (%(h)s) and no query string (tokens travel in some of them).
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s" %({x-request-id}o)s'
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Gunicorn 27 opens a control socket under $HOME by default; two instances on one host would fight
# over it. Reloads and shutdowns use signals (HUP, TERM) instead.
control_socket_disable = True

proc_name = "platform-wsgi"

_var_dir = Path(os.environ.get("VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
pidfile = os.environ.get("GUNICORN_PIDFILE") or str(_var_dir / "run" / "gunicorn.pid")


def when_ready(server) -> None:
    """Master, before the first fork: import every URL's view too (Django does it on the first
    request otherwise, in each worker), so the forks start warm."""
    if preload_app:
        from django.db import connections
        from django.urls import get_resolver

        get_resolver().url_patterns  # noqa: B018 - the import is the point
        # A connection opened while importing must not be shared by the forks.
        connections.close_all()


def _stop_workers_of_a_killed_master() -> None:
    """Workers of a master that was killed keep the address until their next look at their parent
    (up to half the worker timeout); stop them now (deploy.orphans) so this master binds at once.

    Runs as the config is read, before gunicorn writes its own pid over the dead master's; a
    reload re-reads it while the pid file names the live master, and then it does nothing.
    """
    from deploy.orphans import stop_orphans

    Path(pidfile).parent.mkdir(parents=True, exist_ok=True)
    stop_orphans(Path(pidfile), "gunicorn")


_stop_workers_of_a_killed_master()
