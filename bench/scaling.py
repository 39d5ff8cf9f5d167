"""One vs two web processes, one vs two Celery workers: measured on this machine for docs/scaling.md.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python -m bench.scaling [--seconds 8]

Web: gunicorn (deploy/gunicorn.conf.py, production settings) with ``WEB_CONCURRENCY`` 1 then 2,
loaded directly by wrk on the serving benchmark's view (bench/views.py: DRF, one indexed
PostgreSQL read). Workers: 1 then 2 ``celery worker`` processes (each ``--concurrency=1``, as a
worker per machine would be) on a queue of this run, through the Redis broker, draining the same
batch of generation jobs: each job runs the marketplace engine's ``generate()`` (the code a
generation job runs: vectorised rows, Parquet written and read back) on 20,000 rows of the engine
benchmark's 10-field schema. The load average is printed with every figure: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Mapping
from pathlib import Path

import redis
from celery import shared_task

from bench.marketplace_engine import SCHEMA
from bench.processes import Server, free_port, gunicorn_command
from bench.serving import VIEW_PATH, prepare_database, server_environment
from bench.wrk import run_wrk

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench" / "scaling"
JOB_ROWS = 20_000


def _load() -> str:
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())


@shared_task(name="bench.scaling_generate")
def scaling_generate_task(run_id: str, seed: int) -> None:
    """One generation job's engine work; counts itself done in Redis."""
    from django.conf import settings

    from marketplace.engine import GenerationRequest, generate

    request = GenerationRequest.from_config(
        {"schema": SCHEMA, "rows": JOB_ROWS, "format": "parquet"}, default_seed=seed
    )
    generate(request)
    redis.Redis.from_url(settings.REDIS_URL).incr(f"bench:scaling:{run_id}")


def measure_web(env: Mapping[str, str], processes: int, *, seconds: int) -> str:
    python = sys.executable
    server_env = server_environment(env, processes)
    port = free_port()
    command = gunicorn_command(python, f"127.0.0.1:{port}")
    with Server("gunicorn", command, server_env, LOG_DIR / f"gunicorn-{processes}.log", BASE_DIR) as server:
        url = f"http://127.0.0.1:{port}{VIEW_PATH}"
        server.wait_until_answering(url, timeout=180)
        run_wrk(url, seconds=3, connections=16, threads=2)
        load_before = _load()
        result = run_wrk(url, seconds=seconds, connections=16, threads=2)
    return (
        f"web, {processes} gunicorn worker(s): {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.0f} ms, "
        f"p99 {result.p99_ms:.0f} ms, {result.errors} errors (load average before: {load_before})"
    )


def worker_command(queue: str, index: int) -> list[str]:
    """One worker process with one pool process on ``queue``, this module's task loaded."""
    return [
        sys.executable, "-m", "celery", "-A", "config", "worker", "--concurrency=1", "--loglevel=WARNING",
        "--without-mingle", "--without-gossip", "-Q", queue, "-n", f"{queue}-{index}@bench", "-I", "bench.scaling",
    ]  # fmt: skip


def measure_workers(env: Mapping[str, str], workers: int, *, jobs: int) -> str:
    from config.celery import app

    queue = f"bench-scaling-{uuid.uuid4().hex[:8]}"
    run_id = uuid.uuid4().hex
    worker_env = {**env, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONUNBUFFERED": "1"}
    servers = [
        Server(
            f"worker-{index}",
            worker_command(queue, index),
            worker_env,
            LOG_DIR / f"worker-{workers}-{index}.log",
            BASE_DIR,
        )
        for index in range(workers)
    ]
    client = redis.Redis.from_url(env["REDIS_URL"])
    try:
        for server in servers:
            server.start()
        names = [f"{queue}-{index}@bench" for index in range(workers)]
        deadline = time.monotonic() + 180
        while len(app.control.ping(destination=names, timeout=1.0)) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"workers did not answer: {servers[0].log_tail()}")
        load_before = _load()
        started = time.monotonic()
        for seed in range(jobs):
            scaling_generate_task.apply_async(args=[run_id, seed], queue=queue)
        while int(client.get(f"bench:scaling:{run_id}") or 0) < jobs:
            if time.monotonic() - started > 600:
                raise RuntimeError(f"jobs did not finish: {servers[0].log_tail()}")
            time.sleep(0.05)
        seconds = time.monotonic() - started
    finally:
        for server in servers:
            server.stop(grace=10)
        client.delete(f"bench:scaling:{run_id}", queue)
    return (
        f"jobs, {workers} worker process(es): {jobs} jobs of {JOB_ROWS:,} rows in {seconds:.1f} s, "
        f"{jobs / seconds * 60:.1f} jobs/min (load average before: {load_before})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=8, help="length of each measured wrk run (8)")
    parser.add_argument("--jobs", type=int, default=8, help="generation jobs per worker run (8)")
    args = parser.parse_args(argv)
    if not os.environ.get("DATABASE_URL") or not os.environ.get("REDIS_URL"):
        sys.stderr.write("set DATABASE_URL and REDIS_URL\n")
        return 2
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    env = dict(os.environ)
    prepare_database(sys.executable, server_environment(env, 1))
    print(f"{os.cpu_count()} cores; load average at start: {_load()}", flush=True)
    for line in (
        measure_web(env, 1, seconds=args.seconds),
        measure_web(env, 2, seconds=args.seconds),
        measure_workers(env, 1, jobs=args.jobs),
        measure_workers(env, 2, jobs=args.jobs),
    ):
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
