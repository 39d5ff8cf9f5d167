"""Serve by measurement: the same light DRF view under gunicorn sync workers and under uvicorn.

Both servers get the same worker count and the same production settings (DJANGO_DEBUG=0,
PostgreSQL, Redis) and are loaded one at a time with the same wrk command, in alternating order
over the rounds so that neither always runs on a warmer machine; uvicorn runs as deployed, with a
pool of ``ASGI_POOL_MAX_SIZE`` database connections a process, and the PostgreSQL connections each
server holds are counted while it is loaded. Then `make run`'s single uvicorn process beside one
gunicorn worker, and a last run puts nginx (deploy/nginx.conf, rendered by deploy.proxy) in front
of gunicorn, to show what the proxy costs.
"""

from __future__ import annotations

import os
import secrets
import shlex
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.conf import SERVER_SETTINGS_MODULE
from bench.processes import Server, free_port, gunicorn_command
from bench.report import Figure, Section
from bench.wrk import LoadResult, run_wrk, wrk_command
from deploy.proxy import nginx_binary

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench"
BENCH_USERNAME = "bench-reader"
VIEW_PATH = f"/bench/users/{BENCH_USERNAME}"
ASGI_THROUGHPUT_GOAL = ">= 0.5x"  # issue 20: the ASGI server serves REST at half gunicorn's rate or better
ASGI_POOL_MAX_SIZE = 8
MAKE_RUN_LABEL = "uvicorn, one process (make run)"
ONE_GUNICORN_LABEL = "gunicorn, one worker"

_SEED_USER = f"""
import django
django.setup()
from django.contrib.auth import get_user_model
get_user_model().objects.get_or_create(
    username={BENCH_USERNAME!r},
    defaults={{"email": "bench-reader@example.invalid", "display_name": "Bench Reader"}},
)
"""


@dataclass(frozen=True)
class ServingPlan:
    workers: int
    seconds: int = 10
    warmup_seconds: int = 3
    connections: int = 32
    threads: int = 2
    rounds: int = 2
    with_proxy: bool = True


@dataclass(frozen=True)
class Run:
    label: str
    round: int
    result: LoadResult
    connections: int | None = None  # the most PostgreSQL connections the server held while loaded


@contextmanager
def database_connections_counted(database_url: str, every: float = 0.1) -> Iterator[list[int]]:
    """Count the other connections to the database every ``every`` seconds while the block runs;
    the counts are in the yielded list when it ends."""
    counts: list[int] = []
    stop = threading.Event()
    query = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"

    def sample() -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            while not stop.is_set():
                counts.append(connection.execute(query).fetchone()[0])
                stop.wait(every)

    sampler = threading.Thread(target=sample, name="connection-count", daemon=True)
    sampler.start()
    try:
        yield counts
    finally:
        stop.set()
        sampler.join(timeout=5)


def server_environment(base: Mapping[str, str], workers: int) -> dict[str, str]:
    """Production settings for the servers under test, plus the bench-only view."""
    env = dict(base)
    env.update(
        {
            # config.settings with the bench views mounted (bench/settings.py)
            "DJANGO_SETTINGS_MODULE": SERVER_SETTINGS_MODULE,
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": base.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback; TLS ends at the real edge
            "WEB_CONCURRENCY": str(workers),
            "GUNICORN_GRACEFUL_TIMEOUT": "5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def asgi_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The ASGI server's environment, as deployed: a pool of ``ASGI_POOL_MAX_SIZE`` connections a process.

    Django's ASGI handler runs each sync view on a thread of its own, and a persistent connection
    belongs to its thread, so with CONN_MAX_AGE > 0 every such thread keeps a connection open
    until PostgreSQL runs out of them (measured: ~95 connections and 503s within seconds); the
    pool (config/settings.py, DATABASE_POOL_MAX_SIZE) bounds them and spares each request a
    connect. deploy/supervisord.conf and the Makefile set the same for their uvicorn processes.
    """
    return {**env, "DATABASE_POOL_MAX_SIZE": str(ASGI_POOL_MAX_SIZE)}


def uvicorn_command(python: str, port: int, workers: int | None) -> list[str]:
    """uvicorn as deployed; ``workers=None``: one process and no supervisor, as `make run` starts it."""
    processes = [] if workers is None else ["--workers", str(workers)]
    return [
        python, "-m", "uvicorn", "config.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), *processes,
        "--lifespan", "off", "--no-access-log", "--no-proxy-headers", "--log-level", "warning",
        "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip


def prepare_database(python: str, env: Mapping[str, str]) -> None:
    """Migrate the bench database and make sure the row the view reads exists."""
    for command in ([python, "manage.py", "migrate", "--no-input"], [python, "-c", _SEED_USER]):
        completed = subprocess.run(
            command, cwd=BASE_DIR, env=dict(env), capture_output=True, text=True, timeout=600, check=False
        )
        if completed.returncode != 0:
            output = (completed.stdout + completed.stderr).strip().splitlines()[-20:]
            raise RuntimeError(f"`{' '.join(command[1:3])}` failed:\n" + "\n".join(output))


def measure_serving(plan: ServingPlan, base_env: Mapping[str, str], *, log: Callable[[str], None] = print) -> Section:
    """Run the plan and return the serving section of docs/BENCHMARKS.md."""
    python = sys.executable
    env = server_environment(base_env, plan.workers)
    section = Section(key="serving", title="Serving: one DRF view under gunicorn (WSGI) and uvicorn (ASGI)")
    log("serving: migrating the bench database and seeding the row the view reads")
    prepare_database(python, env)

    runs: list[Run] = []
    commands: dict[str, list[str]] = {}

    def load(label: str, round_number: int, server_url: str) -> None:
        run_wrk(server_url, seconds=plan.warmup_seconds, connections=plan.connections, threads=plan.threads)
        with database_connections_counted(env["DATABASE_URL"]) as counts:
            result = run_wrk(server_url, seconds=plan.seconds, connections=plan.connections, threads=plan.threads)
        runs.append(Run(label, round_number, result, max(counts, default=None)))
        log(
            f"serving: {label} round {round_number}: {result.requests_per_second:,.0f} req/s, "
            f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.errors} errors, "
            f"at most {max(counts, default=0)} database connections"
        )

    def measure_gunicorn(round_number: int, *, label: str = "gunicorn", workers: int = plan.workers) -> None:
        port = free_port()
        command = gunicorn_command(python, f"127.0.0.1:{port}")
        commands[label] = command
        server_env = {**env, "WEB_CONCURRENCY": str(workers)}
        with Server("gunicorn", command, server_env, LOG_DIR / "gunicorn.log", BASE_DIR) as server:
            url = f"http://127.0.0.1:{port}{VIEW_PATH}"
            server.wait_until_answering(url)
            load(label, round_number, url)

    def measure_uvicorn(round_number: int, *, label: str = "uvicorn", workers: int | None = plan.workers) -> None:
        port = free_port()
        command = uvicorn_command(python, port, workers)
        commands[label] = command
        with Server("uvicorn", command, asgi_environment(env), LOG_DIR / "uvicorn.log", BASE_DIR) as server:
            url = f"http://127.0.0.1:{port}{VIEW_PATH}"
            server.wait_until_answering(url)
            load(label, round_number, url)

    for round_number in range(1, plan.rounds + 1):
        order = (measure_gunicorn, measure_uvicorn) if round_number % 2 else (measure_uvicorn, measure_gunicorn)
        for measure in order:
            measure(round_number)
    measure_uvicorn(1, label=MAKE_RUN_LABEL, workers=None)
    measure_gunicorn(1, label=ONE_GUNICORN_LABEL, workers=1)

    proxy_problem = measure_behind_proxy(plan, env, load, commands)

    section.figures = serving_figures(runs, plan.workers)
    section.intro = serving_intro(plan)
    section.notes = [serving_verdict(section.figures), runs_table(runs), commands_block(commands, plan, env)]
    if proxy_problem:
        section.notes.insert(0, proxy_problem)
    return section


def measure_behind_proxy(
    plan: ServingPlan, env: Mapping[str, str], load: Callable[[str, int, str], None], commands: dict[str, list[str]]
) -> str | None:
    """Load the view through nginx in front of gunicorn; the reason it was skipped, if it was."""
    python = sys.executable
    if not plan.with_proxy:
        return None
    if nginx_binary() is None:
        return "nginx is not installed, so the proxy run was skipped (apt-get install nginx-light)."
    wsgi_port, proxy_port = free_port(), free_port()
    proxy_env = {
        **env,
        "PROXY_LISTEN": f"127.0.0.1:{proxy_port}",
        "WSGI_BIND": f"127.0.0.1:{wsgi_port}",
        "ASGI_PORT": str(free_port()),  # not started: this run loads a REST path only
        # deploy.proxy waits for both upstreams before nginx starts; gunicorn answers by then, and
        # the ASGI one is not started, so it starts at once instead of after 120 s.
        "PROXY_UPSTREAM_WAIT": "0",
        "NGINX_RUNTIME_DIR": str(LOG_DIR / "nginx"),
    }
    commands["nginx"] = [python, "-m", "deploy.proxy"]
    gunicorn_behind_proxy = gunicorn_command(python, f"127.0.0.1:{wsgi_port}")
    gunicorn = Server("gunicorn", gunicorn_behind_proxy, env, LOG_DIR / "gunicorn-behind-nginx.log", BASE_DIR)
    nginx = Server("nginx", commands["nginx"], proxy_env, LOG_DIR / "nginx.log", BASE_DIR)
    with gunicorn:
        gunicorn.wait_until_answering(f"http://127.0.0.1:{wsgi_port}{VIEW_PATH}")
        with nginx:
            url = f"http://127.0.0.1:{proxy_port}{VIEW_PATH}"
            nginx.wait_until_answering(url)
            load("nginx -> gunicorn", 1, url)

    return None


def serving_intro(plan: ServingPlan) -> str:
    return (
        f"`GET {VIEW_PATH}`: a DRF view on the platform's `ApiView` that reads one user by a unique "
        "index from PostgreSQL and renders it as JSON (bench/views.py, mounted only by "
        "the bench servers' settings, bench/settings.py). "
        f"Both servers ran {plan.workers} worker processes with `DJANGO_DEBUG=0`, each as deployed "
        "(gunicorn with a persistent database connection per worker, uvicorn with a pool of at most "
        f"{ASGI_POOL_MAX_SIZE} a process: docs/deployment.md); then `make run`'s one uvicorn process beside "
        "one gunicorn worker. Each was "
        f"loaded for {plan.seconds} s after a {plan.warmup_seconds} s warm-up by "
        f"`wrk -t{plan.threads} -c{plan.connections}` on the same {os.cpu_count()} cores, over {plan.rounds} "
        f"round{'s' if plan.rounds != 1 else ''} in alternating order; figures are medians over rounds."
    )


def _median(runs: list[Run], label: str, metric: Callable[[LoadResult], float]) -> float | None:
    values = [metric(run.result) for run in runs if run.label == label]
    return statistics.median(values) if values else None


def serving_figures(runs: list[Run], workers: int) -> list[Figure]:
    def rps(result: LoadResult) -> float:
        return result.requests_per_second

    figures = [
        Figure(
            f"requests/s, uvicorn ASGI, {workers} workers (pool of {ASGI_POOL_MAX_SIZE} connections each)",
            _median(runs, "uvicorn", rps),
            "req/s",
            f"requests/s, gunicorn sync, {workers} workers",
            _median(runs, "gunicorn", rps),
            ASGI_THROUGHPUT_GOAL,
        ),
        Figure(
            "p50 latency, uvicorn",
            _median(runs, "uvicorn", lambda result: result.p50_ms),
            "ms",
            "p50 latency, gunicorn",
            _median(runs, "gunicorn", lambda result: result.p50_ms),
            None,
        ),
        Figure(
            "p99 latency, uvicorn",
            _median(runs, "uvicorn", lambda result: result.p99_ms),
            "ms",
            "p99 latency, gunicorn",
            _median(runs, "gunicorn", lambda result: result.p99_ms),
            None,
        ),
    ]
    held = [run.connections for run in runs if run.label == "uvicorn" and run.connections is not None]
    if held:
        figures.append(
            Figure(
                f"PostgreSQL connections held by the {workers} uvicorn workers under load, most seen",
                max(held),
                "connections",
                f"the pools' bound: {workers} workers x {ASGI_POOL_MAX_SIZE}",
                workers * ASGI_POOL_MAX_SIZE,
                "<= 1x",
            )
        )
    single = _median(runs, MAKE_RUN_LABEL, rps)
    if single is not None:
        figures.append(
            Figure(
                f"requests/s, {MAKE_RUN_LABEL}",
                single,
                "req/s",
                f"requests/s, {ONE_GUNICORN_LABEL}",
                _median(runs, ONE_GUNICORN_LABEL, rps),
                None,
            )
        )
    proxied = _median(runs, "nginx -> gunicorn", rps)
    if proxied is not None:
        figures.append(
            Figure(
                "requests/s, nginx -> gunicorn",
                proxied,
                "req/s",
                "requests/s, gunicorn direct",
                _median(runs, "gunicorn", rps),
                None,
            )
        )
    return figures


def serving_verdict(figures: list[Figure]) -> str:
    ratio = figures[0].ratio  # uvicorn's rate over gunicorn's
    if not ratio:
        return "No verdict: a server produced no figure."
    if ratio <= 1:
        return (
            f"**Verdict:** gunicorn's sync workers answered {1 / ratio:.2f}x the requests/s of uvicorn for the same "
            "view and worker count, so the full stack serves REST from gunicorn and keeps uvicorn for "
            "WebSockets and the SSE chat stream, routed by nginx (docs/deployment.md); `make run` serves "
            "everything from uvicorn alone."
        )
    return (
        f"**Verdict:** in this run uvicorn answered {ratio:.2f}x the requests/s of gunicorn, which goes "
        "against the serving split; the measurement should be repeated on a quiet machine before "
        "changing docs/deployment.md."
    )


def runs_table(runs: list[Run]) -> str:
    lines = [
        "Every run (errors: socket errors, answers other than 2xx/3xx, and requests still unanswered after "
        "5 s; wrk leaves those timed-out requests out of its latency percentiles, so a run with errors "
        "looks faster in p50/p99 than it was):",
        "",
        "| server | round | requests | seconds | req/s | p50 ms | p90 ms | p99 ms | max ms | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        result = run.result
        lines.append(
            f"| {run.label} | {run.round} | {result.requests:,} | {result.seconds:.1f} | "
            f"{result.requests_per_second:,.0f} | {result.p50_ms:.2f} | {result.p90_ms:.2f} | "
            f"{result.p99_ms:.2f} | {result.max_ms:.1f} | {result.errors} |"
        )
    return "\n".join(lines)


def _shown(command: list[str]) -> str:
    python = sys.executable
    shown = [".venv/bin/python" if part == python else part for part in command]
    return shlex.join(shown).replace(str(BASE_DIR) + os.sep, "")


def commands_block(commands: dict[str, list[str]], plan: ServingPlan, env: Mapping[str, str]) -> str:
    settings = (
        f"DJANGO_SETTINGS_MODULE=bench.settings DJANGO_DEBUG=0 SECURE_SSL_REDIRECT=0 WEB_CONCURRENCY={plan.workers} "
        "DATABASE_URL=postgres://... REDIS_URL=redis://..."
    )
    url = "http://127.0.0.1:PORT" + VIEW_PATH
    load = _shown(wrk_command(url, seconds=plan.seconds, connections=plan.connections, threads=plan.threads))
    lines = ["Command lines (PORT: a free port picked at run time):", "", "```sh"]
    lines.append(f"# every server's environment: {settings}")
    lines.append("# uvicorn's also: DATABASE_CONN_MAX_AGE=0 (see asgi_environment in bench/serving.py)")
    lines += [_shown(command) for command in commands.values()]
    lines += [load, "```"]
    return "\n".join(lines)
