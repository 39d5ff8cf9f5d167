"""Load: a realistic mix over all five APIs for a minute on the full stack, with Locust.

gunicorn serves REST as ``deploy/`` runs it (sync workers, 2 x cores) with a Celery worker beside
it, on PostgreSQL and Redis. Locust users, each signed in with every product's credential, browse
marketplace datasets, read their coder profile and tasks, fetch telemetry stats and patterns, send
analytics events, write and search cerebro memories, and create ledger objects (bench/
load_locustfile.py has the weights). Reported: throughput and latency percentiles over every
request, 5xx answers (goal: none), and lost writes: for each write, the successes Locust saw minus
the rows this run stored (goal: none).

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python -m bench.load [--seconds 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
LOCUSTFILE = Path(__file__).resolve().with_name("load_locustfile.py")
LOG_DIR = BASE_DIR / "var" / "bench"
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
USERS = int(os.environ.get("LOAD_USERS", "24"))
CREDENTIAL_SETS = 12
# Outgoing HTTP from the servers (webhooks, outside services) goes nowhere: nothing listens here.
DEAD_PROXY = "http://127.0.0.1:9"

# Locust request name -> how to count, in the database, the rows this run's successes stored.
WRITES = {
    "analytics: track (write)": "analytics_events",
    "cerebro: memory upsert (write)": "cerebro_memories",
    "ledger: create object (write)": "ledger_objects",
}


@dataclass
class LoadOutcome:
    seconds: int
    users: int
    requests: int = 0
    failures: int = 0
    requests_per_second: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    statuses: dict[str, int] = field(default_factory=dict)  # failed answers by status ("500", "429", ...)
    per_name: list[dict] = field(default_factory=list)
    writes_seen: dict[str, int] = field(default_factory=dict)
    writes_stored: dict[str, int] = field(default_factory=dict)

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status.startswith("5"))

    @property
    def lost_writes(self) -> int:
        """Writes answered 2xx that are not in the database, plus rows no 2xx answer accounts for."""
        return sum(abs(self.writes_seen[name] - self.writes_stored.get(name, 0)) for name in self.writes_seen)

    def summary(self) -> str:
        return (
            f"{self.requests} requests in {self.seconds} s by {self.users} users: "
            f"{self.requests_per_second:.0f} req/s, "
            f"p50 {self.p50_ms:.0f} ms, p99 {self.p99_ms:.0f} ms, failed {self.failures} {self.statuses or ''}, "
            f"writes seen {self.writes_seen}, stored {self.writes_stored}"
        )


def server_env(base: Mapping[str, str]) -> dict[str, str]:
    """The servers' environment: production settings with this process's keys, no outside traffic."""
    from django.conf import settings

    env = dict(base)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        SECRET_KEY=settings.SECRET_KEY,
        JWT_SIGNING_KEY=settings.SIMPLE_JWT["SIGNING_KEY"],
        SECURE_SSL_REDIRECT="0",
        FIELD_ENCRYPTION_KEY=base.get("FIELD_ENCRYPTION_KEY") or "bench-load-field-encryption-key",
        RATE_LIMIT_MULTIPLIER="1000",
        HTTP_PROXY=DEAD_PROXY,
        HTTPS_PROXY=DEAD_PROXY,
        http_proxy=DEAD_PROXY,
        https_proxy=DEAD_PROXY,
        NO_PROXY="127.0.0.1,localhost,::1",
        no_proxy="127.0.0.1,localhost,::1",
        PYTHONUNBUFFERED="1",
    )
    for name in ("LLM_BASE_URL", "LLM_API_KEY", "ETH_RPC_URL", "MARKETPLACE_ETH_RPC_URL"):
        env.pop(name, None)
    return env


def prepare_credentials(run_tag: str, count: int) -> list[dict]:
    """Users signed in to every product, each with an analytics install and session of its own."""
    from accounts.models import User
    from accounts.services import auth_session_start
    from telemetry.services.keys import api_key_issue

    credentials = []
    for number in range(count):
        user = User.objects.create(username=f"load-{run_tag}-{number}", email=f"load-{run_tag}-{number}@example.com")

        def bearer(product: str, user=user) -> dict[str, str]:
            return {"Authorization": f"Bearer {auth_session_start(user=user, product=product).tokens.access}"}

        telemetry_key = api_key_issue(email=user.email).raw_key
        credentials.append(
            {
                "marketplace": bearer("marketplace"),
                "coder": bearer("coder"),
                "cerebro": bearer("cerebro"),
                "telemetry": {"Authorization": f"Bearer {telemetry_key}", "X-User-Id": f"anon-load-{run_tag}-{number}"},
                "install": secrets.token_hex(8),
                "session": str(uuid.uuid4()),
            }
        )
    return credentials


def stored_writes(run_tag: str, credentials: list[dict]) -> dict[str, int]:
    from analytics.models import UsageEvent
    from cerebro.models import Memory
    from ledger.models import LedgerObject

    counts = {
        "analytics_events": UsageEvent.objects.filter(session_id__in=[c["session"] for c in credentials]).count(),
        "cerebro_memories": Memory.objects.filter(key__startswith=f"load-{run_tag}-").count(),
        "ledger_objects": LedgerObject.objects.filter(type_name=f"load-{run_tag}").count(),
    }
    return {name: counts[source] for name, source in WRITES.items()}


def parse_locust_csv(prefix: str, outcome: LoadOutcome) -> None:
    with open(f"{prefix}_stats.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        requests, failures = int(row["Request Count"]), int(row["Failure Count"])
        if row["Name"] == "Aggregated":
            outcome.requests, outcome.failures = requests, failures
            outcome.requests_per_second = float(row["Requests/s"])
            outcome.p50_ms, outcome.p99_ms = float(row["50%"]), float(row["99%"])
            continue
        outcome.per_name.append(
            {"name": row["Name"], "requests": requests, "failures": failures, "p50": row["50%"], "p99": row["99%"]}
        )
    with open(f"{prefix}_failures.csv", newline="") as handle:
        for row in csv.DictReader(handle):
            match = re.search(r"HTTP (\d{3})", row["Error"])
            status = match.group(1) if match else "transport"
            outcome.statuses[status] = outcome.statuses.get(status, 0) + int(row["Occurrences"])


def run_load(
    base_env: Mapping[str, str],
    *,
    seconds: int = SECONDS,
    users: int = USERS,
    migrate: bool = True,
    with_worker: bool = True,
    log_dir: Path = LOG_DIR,
    log: Callable[[str], None] = print,
) -> LoadOutcome:
    """Start gunicorn (and a worker), run Locust against it for ``seconds``, count what was stored."""
    from bench.processes import Server, free_port, gunicorn_command

    python = sys.executable
    env = server_env(base_env)
    log_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        subprocess.run([python, "manage.py", "migrate", "--no-input"], cwd=BASE_DIR, env=env, check=True)
    run_tag = secrets.token_hex(4)
    credentials = prepare_credentials(run_tag, CREDENTIAL_SETS)
    outcome = LoadOutcome(seconds=seconds, users=users)
    port = free_port()
    gunicorn = Server(
        "gunicorn",
        gunicorn_command(python, f"127.0.0.1:{port}"),
        env,
        log_dir / "load-gunicorn.log",
        BASE_DIR,
    )
    worker = Server(
        "celery",
        [str(Path(python).parent / "celery"), "-A", "config", "worker", "--concurrency=1", "--loglevel=WARNING"],
        env,
        log_dir / "load-celery.log",
        BASE_DIR,
    )
    with tempfile.TemporaryDirectory() as scratch:
        credentials_path = Path(scratch) / "credentials.json"
        credentials_path.write_text(json.dumps(credentials))
        prefix = str(Path(scratch) / "locust")
        try:
            gunicorn.start()
            if with_worker:
                worker.start()
            gunicorn.wait_until_answering(f"http://127.0.0.1:{port}/health", timeout=120)
            log(f"load: {users} users for {seconds} s against gunicorn on port {port}")
            locust = [
                str(Path(python).parent / "locust"),
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--only-summary",
                "--users",
                str(users),
                "--spawn-rate",
                str(users),
                "--run-time",
                f"{seconds}s",
                "--stop-timeout",
                "10",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                prefix,
                "--exit-code-on-error",
                "0",
                "--loglevel",
                "WARNING",
            ]
            successes_path = Path(scratch) / "successes.json"
            locust_env = {
                **os.environ,
                "LOAD_CREDENTIALS": str(credentials_path),
                "LOAD_RUN_TAG": run_tag,
                "LOAD_SUCCESSES": str(successes_path),
            }
            with (log_dir / "load-locust.log").open("wb") as locust_log:
                subprocess.run(
                    locust,
                    cwd=BASE_DIR,
                    env=locust_env,
                    stdout=locust_log,
                    stderr=subprocess.STDOUT,
                    timeout=seconds + 120,
                    check=True,
                )
        finally:
            worker.stop()
            gunicorn.stop()
        parse_locust_csv(prefix, outcome)
        successes = json.loads(successes_path.read_text())
        outcome.writes_seen = {name: successes.get(name, 0) for name in WRITES}
    outcome.writes_stored = stored_writes(run_tag, credentials)
    log(f"load: {outcome.summary()}")
    for entry in outcome.per_name:
        log(f"load:   {entry['name']}: {entry['requests']} requests, p50 {entry['p50']} ms, p99 {entry['p99']} ms")
    return outcome


def rows_of(outcome: LoadOutcome) -> list[dict]:
    mix = f"mix of 5 APIs, {outcome.users} users, {outcome.seconds} s"
    return [
        {
            "name": f"load: throughput ({mix})",
            "value": round(outcome.requests_per_second, 1),
            "unit": "req/s",
            "baseline_name": None,
            "baseline_value": None,
            "goal": None,
        },
        {
            "name": "load: p50 latency",
            "value": outcome.p50_ms,
            "unit": "ms",
            "baseline_name": None,
            "baseline_value": None,
            "goal": None,
        },
        {
            "name": "load: p99 latency",
            "value": outcome.p99_ms,
            "unit": "ms",
            "baseline_name": None,
            "baseline_value": None,
            "goal": None,
        },
        {
            "name": f"load: requests ({outcome.failures} not 2xx: {outcome.statuses or 'none'})",
            "value": outcome.requests,
            "unit": "requests",
            "baseline_name": None,
            "baseline_value": None,
            "goal": None,
        },
        {
            "name": "load: 5xx answers",
            "value": outcome.server_errors,
            "unit": "answers",
            "baseline_name": None,
            "baseline_value": None,
            "goal": "== 0",
        },
        {
            "name": f"load: lost writes (acknowledged {sum(outcome.writes_seen.values())}, stored "
            f"{sum(outcome.writes_stored.values())})",
            "value": outcome.lost_writes,
            "unit": "writes",
            "baseline_name": None,
            "baseline_value": None,
            "goal": "== 0",
        },
    ]


def run() -> list[dict]:
    """The bench harness's entry point (django is set up; DATABASE_URL and REDIS_URL are the full stack)."""
    return rows_of(run_load(os.environ, seconds=SECONDS, users=USERS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=SECONDS)
    parser.add_argument("--users", type=int, default=USERS)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    outcome = run_load(os.environ, seconds=args.seconds, users=args.users)
    for row in rows_of(outcome):
        print(f"{row['name']}: {row['value']} {row['unit']}")
    return 0 if outcome.server_errors == 0 and outcome.lost_writes == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
