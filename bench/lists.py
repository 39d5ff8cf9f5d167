"""Authenticated list reads (coder tasks, marketplace datasets, cerebro history, 50 items each) beside
a bare view returning the same rows as orjson, both served by the same gunicorn in the same run.

One gunicorn (sync workers, deploy/gunicorn.conf.py, DJANGO_DEBUG=0, bench/settings.py) serves
each list endpoint as deployed (JWT authentication with its live-session check, the rate limiter,
DRF, the selector, pagination, serializers) and, per list, a bare Django view (bench/views.py) that
reads the same 50 rows with one ``.values()`` query and answers them as orjson, through the same
middleware but without authentication, limiter, DRF or serializer. wrk loads one URL at a time with
the same connections, in alternating order over the rounds; throughput is wrk's req/s.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python -m bench --only lists --output FILE
"""

from __future__ import annotations

import os
import secrets
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.machine import load_average_row

BASE_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = BASE_DIR / "var" / "bench"
ITEMS = 50
WORKERS = 2 * (os.cpu_count() or 1)  # what deploy/gunicorn.conf.py runs by default
CONNECTIONS = 8
THREADS = 2
SECONDS = int(os.environ.get("BENCH_LISTS_SECONDS", "8"))
WARMUP_SECONDS = 2
ROUNDS = int(os.environ.get("BENCH_LISTS_ROUNDS", "2"))
GOAL = ">= 0.3x"  # issue 20


@dataclass(frozen=True)
class ListRead:
    """One list endpoint and its bare baseline."""

    key: str
    product: str
    label: str
    path: str
    bare_path: str  # with {user_id}
    items_in: tuple[str, ...]  # where the answer's items are: keys from the top of the JSON


LIST_READS = (
    ListRead(
        "coder-tasks",
        "coder",
        "GET /coder/api/tasks?limit=50",
        f"/coder/api/tasks?limit={ITEMS}",
        "/bench/bare/coder-tasks/{user_id}",
        ("data", "tasks"),
    ),
    ListRead(
        "marketplace-datasets",
        "marketplace",
        "GET /marketplace/v1/datasets?visibility=all&limit=50 (the creator's own)",
        f"/marketplace/v1/datasets?visibility=all&limit={ITEMS}&creator={{user_id}}",
        "/bench/bare/marketplace-datasets/{user_id}",
        ("datasets",),
    ),
    ListRead(
        "cerebro-history",
        "cerebro",
        "GET /cerebro/api/history?limit=50",
        f"/cerebro/api/history?limit={ITEMS}",
        "/bench/bare/cerebro-history/{user_id}",
        ("chats",),
    ),
)


@dataclass(frozen=True)
class Seeded:
    user_id: str
    tokens: dict[str, str]  # product -> access token


def seed() -> Seeded:
    """A user with ``ITEMS`` coder tasks, marketplace datasets and cerebro chats, and a live session
    of each product."""
    from decimal import Decimal

    from accounts.models import User
    from accounts.services import auth_session_start
    from bench.coder import seed_tasks
    from cerebro.models import Chat
    from marketplace.models import Dataset

    tag = secrets.token_hex(4)
    user = User.objects.create(username=f"bench-lists-{tag}", email=f"bench-lists-{tag}@example.invalid")
    seed_tasks(user, ITEMS, seeded_for="bench/lists.py")
    Dataset.objects.bulk_create(
        Dataset(
            creator=user,
            name=f"Benchmark dataset {number}",
            description="Seeded for bench/lists.py",
            category="finance",
            schema=[{"id": "f1", "name": "amount", "type": "float", "description": "", "constraints": {"min": 0}}],
            status=Dataset.Status.READY,
            visibility=Dataset.Visibility.PUBLIC,
            price=Decimal(0),
            currency="ETH",
            rows=100,
        )
        for number in range(ITEMS)
    )
    Chat.objects.bulk_create(Chat(user=user, title=f"Benchmark chat {number}") for number in range(ITEMS))
    tokens = {read.product: auth_session_start(user=user, product=read.product).tokens.access for read in LIST_READS}
    return Seeded(user_id=str(user.pk), tokens=tokens)


def cleanup(seeded: Seeded) -> None:
    from django.db import connection

    from accounts.models import User
    from cerebro.models import Chat
    from marketplace.models import Dataset

    Chat.objects.filter(user_id=seeded.user_id).delete()
    Dataset.objects.filter(creator_id=seeded.user_id).delete()
    try:
        User.objects.filter(pk=seeded.user_id).delete()
    except Exception:  # a row that protects the user (none should): leave it, say so
        print(f"lists: could not delete the bench user {seeded.user_id}", file=sys.stderr)
    connection.close()


def _items(answer: dict, keys: tuple[str, ...]) -> list:
    for key in keys:
        answer = answer[key]
    return answer


def check_answers(base_url: str, seeded: Seeded) -> None:
    """Each endpoint and its bare view answer 200 with ``ITEMS`` items before anything is measured."""
    import httpx

    for read in LIST_READS:
        headers = {"Authorization": f"Bearer {seeded.tokens[read.product]}"}
        answer = httpx.get(base_url + read.path.format(user_id=seeded.user_id), headers=headers, timeout=10)
        if answer.status_code != 200 or len(_items(answer.json(), read.items_in)) != ITEMS:
            raise RuntimeError(f"{read.label} answered {answer.status_code}: {answer.text[:300]}")
        bare = httpx.get(base_url + read.bare_path.format(user_id=seeded.user_id), timeout=10)
        if bare.status_code != 200 or len(bare.json()["data"]) != ITEMS:
            raise RuntimeError(f"{read.bare_path} answered {bare.status_code}: {bare.text[:300]}")


def measure(base_url: str, seeded: Seeded) -> dict[tuple[str, str], list]:
    """wrk results per (list key, "endpoint" | "bare"), rounds in alternating order."""
    from bench.wrk import run_wrk

    targets = {}
    for read in LIST_READS:
        headers = {"Authorization": f"Bearer {seeded.tokens[read.product]}"}
        targets[(read.key, "endpoint")] = (base_url + read.path.format(user_id=seeded.user_id), headers)
        targets[(read.key, "bare")] = (base_url + read.bare_path.format(user_id=seeded.user_id), {})
    for url, headers in targets.values():
        run_wrk(url, seconds=WARMUP_SECONDS, connections=CONNECTIONS, threads=THREADS, headers=headers)
    results: dict[tuple[str, str], list] = {target: [] for target in targets}
    for round_number in range(ROUNDS):
        for read in LIST_READS:
            order = ("endpoint", "bare") if round_number % 2 == 0 else ("bare", "endpoint")
            for kind in order:
                url, headers = targets[(read.key, kind)]
                result = run_wrk(url, seconds=SECONDS, connections=CONNECTIONS, threads=THREADS, headers=headers)
                if result.errors:
                    raise RuntimeError(f"wrk saw {result.errors} errors or non-2xx answers on {url}")
                results[(read.key, kind)].append(result)
                print(f"lists: {read.key} {kind}: {result.requests_per_second:,.0f} req/s, p50 {result.p50_ms:.1f} ms")
    return results


def figures(results: dict[tuple[str, str], list], load_before: str, load_after: str) -> list[dict]:
    def median(key: str, kind: str, field: str) -> float:
        return statistics.median(getattr(result, field) for result in results[(key, kind)])

    rows = []
    server = f"gunicorn, {WORKERS} sync workers, wrk -c{CONNECTIONS}"
    for read in LIST_READS:
        bare = f"bare view, the same {ITEMS} rows as orjson, same server ({read.bare_path.split('/{')[0]})"
        rows.append(
            {
                "name": f"{read.label} (JWT, {ITEMS} items), {server}: throughput",
                "value": round(median(read.key, "endpoint", "requests_per_second"), 1),
                "unit": "req/s",
                "baseline_name": f"{bare}: throughput",
                "baseline_value": round(median(read.key, "bare", "requests_per_second"), 1),
                "goal": GOAL,
            }
        )
        rows.append(
            {
                "name": f"{read.label}: median latency",
                "value": round(median(read.key, "endpoint", "p50_ms"), 2),
                "unit": "ms",
                "baseline_name": "bare view: median latency",
                "baseline_value": round(median(read.key, "bare", "p50_ms"), 2),
                "goal": None,
            }
        )
    rows.append(load_average_row(load_before, load_after))
    return rows


def run() -> list[dict]:
    from django.core.management import call_command

    from bench.machine import load_average
    from bench.processes import deployed_gunicorn, free_port

    call_command("migrate", verbosity=0)  # `--only lists` on a database no other section migrated
    seeded = seed()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    server = deployed_gunicorn(name="lists", port=port, workers=WORKERS)
    try:
        with server:
            server.wait_until_answering(f"{base_url}{LIST_READS[0].bare_path.format(user_id=seeded.user_id)}")
            check_answers(base_url, seeded)
            load_before = load_average()
            results = measure(base_url, seeded)
            load_after = load_average()
    finally:
        cleanup(seeded)
    return figures(results, load_before, load_after)


if __name__ == "__main__":
    import json

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for row in run():
        print(json.dumps(row))
