"""Async Coder: GET /coder/api/tasks (JWT, a user with 50 tasks) under concurrent load, beside a bare
Django JSON view served by the same gunicorn workers in the same run.

One gunicorn (sync workers, deploy/gunicorn.conf.py, DJANGO_DEBUG=0) serves both URLs: the real
task list (JWT authentication with its live-session check, the rate limiter, DRF, the selector's
one join, pagination, serialization of 50 tasks) and a plain Django view returning a constant
JSON object through the same middleware. wrk loads them one at a time, alternating over the
rounds, with the same connections; latencies are wrk's (median and p99), throughput its req/s.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/coder.py
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.wrk import LoadResult, run_wrk

if TYPE_CHECKING:
    from accounts.models import User

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

TASKS = 50
WORKERS = 2 * (os.cpu_count() or 1)  # what deploy/gunicorn.conf.py runs by default
CONNECTIONS = 8
THREADS = 2
SECONDS = 8
WARMUP_SECONDS = 2
ROUNDS = 2
BARE_PATH = "/bench/bare/constant-json"  # bench/views.py, on the bench servers (bench/settings.py)
TASKS_PATH = f"/coder/api/tasks?limit={TASKS}"
LOG_DIR = BASE_DIR / "var" / "bench"


# --- Seeding ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Seeded:
    user_id: str
    access_token: str


def seed_tasks(user: User, count: int, *, seeded_for: str) -> None:
    """A credit account, a repository and ``count`` tasks of varied types and statuses for ``user``."""
    from coder.models import AIModel, CoderAccount, Repository, Task

    CoderAccount.objects.create(user=user, credits=1000)
    repository = Repository.objects.create(
        user=user,
        github_id=None,
        name="bench",
        full_name=f"bench/{user.username}",
        clone_url="https://example.invalid/x.git",
    )
    ai_model = AIModel.objects.filter(is_active=True).order_by("sort_order").first()
    statuses = ["completed", "failed", "running", "pending", "cancelled"]
    Task.objects.bulk_create(
        Task(
            user=user,
            repository=repository,
            ai_model=ai_model,
            title=f"Benchmark task {number}",
            description=f"Seeded for {seeded_for}",
            prompt="Find and fix the bug in the login component",
            branch="main",
            target_branch="main",
            type=["debug", "ask", "documentation"][number % 3],
            status=statuses[number % len(statuses)],
            estimated_credits=25,
            credits_used=number % 25,
        )
        for number in range(count)
    )


def seed() -> Seeded:
    """A user with a credit account, a repository and ``TASKS`` tasks; a live coder session's JWT."""
    from accounts.models import User
    from accounts.services import auth_session_start

    tag = secrets.token_hex(4)
    user = User.objects.create(username=f"bench-coder-{tag}", email=f"bench-coder-{tag}@example.invalid")
    seed_tasks(user, TASKS, seeded_for="bench/coder.py")
    issued = auth_session_start(user=user, product="coder")
    return Seeded(user_id=str(user.pk), access_token=issued.tokens.access)


def cleanup(seeded: Seeded) -> None:
    from accounts.models import User

    User.objects.filter(pk=seeded.user_id).delete()


# --- Serving and load ------------------------------------------------------------------------------------


def wrk(url: str, *, seconds: int, headers: dict[str, str]) -> LoadResult:
    return run_wrk(url, seconds=seconds, connections=CONNECTIONS, threads=THREADS, headers=headers)


def measure(base_url: str, token: str) -> dict[str, list[LoadResult]]:
    targets = {
        "tasks": (f"{base_url}{TASKS_PATH}", {"Authorization": f"Bearer {token}"}),
        "bare": (f"{base_url}{BARE_PATH}", {}),
    }
    for url, headers in targets.values():
        wrk(url, seconds=WARMUP_SECONDS, headers=headers)
    loads: dict[str, list[LoadResult]] = {"tasks": [], "bare": []}
    for round_number in range(ROUNDS):
        order = ["tasks", "bare"] if round_number % 2 == 0 else ["bare", "tasks"]
        for name in order:
            url, headers = targets[name]
            loads[name].append(wrk(url, seconds=SECONDS, headers=headers))
    return loads


def _check_answers(base_url: str, token: str) -> None:
    import httpx

    answer = httpx.get(f"{base_url}{TASKS_PATH}", headers={"Authorization": f"Bearer {token}"}, timeout=10)
    if answer.status_code != 200 or len(answer.json()["data"]["tasks"]) != TASKS:
        raise RuntimeError(f"GET {TASKS_PATH} answered {answer.status_code}: {answer.text[:300]}")
    bare = httpx.get(f"{base_url}{BARE_PATH}", timeout=10)
    if bare.status_code != 200:
        raise RuntimeError(f"GET {BARE_PATH} answered {bare.status_code}")


def run() -> list[dict]:
    from bench.processes import deployed_gunicorn, free_port

    seeded = seed()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = deployed_gunicorn(name="coder", port=port, workers=WORKERS)
    try:
        with server:
            server.wait_until_answering(f"{base_url}{BARE_PATH}")
            _check_answers(base_url, seeded.access_token)
            loads = measure(base_url, seeded.access_token)
    finally:
        cleanup(seeded)

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(load, field) for load in loads[name])

    errors = sum(load.errors for runs in loads.values() for load in runs)
    if errors:
        raise RuntimeError(f"wrk saw {errors} errors or non-2xx answers; see {server.log_path}")
    label = f"GET /coder/api/tasks (JWT, {TASKS} tasks), {CONNECTIONS} connections, {WORKERS} sync workers"
    bare = "bare Django JSON view, same server"
    return [
        {
            "name": f"{label}: median latency",
            "value": round(median("tasks", "p50_ms"), 2),
            "unit": "ms",
            "baseline_name": f"{bare}: median latency",
            "baseline_value": round(median("bare", "p50_ms"), 2),
            "goal": "<= 50",
        },
        {
            "name": f"{label}: p99 latency",
            "value": round(median("tasks", "p99_ms"), 2),
            "unit": "ms",
            "baseline_name": f"{bare}: p99 latency",
            "baseline_value": round(median("bare", "p99_ms"), 2),
            "goal": "<= 200",
        },
        {
            "name": f"{label}: throughput",
            "value": round(median("tasks", "requests_per_second"), 1),
            "unit": "req/s",
            "baseline_name": f"{bare}: throughput",
            "baseline_value": round(median("bare", "requests_per_second"), 1),
            "goal": ">= 0.2x",
        },
    ]


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for row in run():
        print(json.dumps(row))
