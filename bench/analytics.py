"""Analytics: event ingest through POST /usage/batch vs a raw COPY, and the admin dashboard at 1M events.

Runs in a scratch PostgreSQL database created next to DATABASE_URL's (dropped afterwards), so the
million events never touch real data. The API figure goes through the whole Django stack
in-process (django.test.Client: middleware, rate limits on Redis, validation, scrubbing, the ORM,
the rollup upsert) without an HTTP server in front; the baseline COPYs the same rows over a
separate psycopg connection in the same run, alternating with the API.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/analytics.py

ANALYTICS_BENCH_EVENTS (default 1000000) sets the size of the dashboard data set.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

BATCH_SIZE = 500
WARMUP_BATCHES = 4
TIMED_BATCHES = 30
INSTALLS = 5_000
DASHBOARD_ROUNDS = 15
DAYS = 30

EVENT_TYPES = (
    ("workflow_executed", 40),
    ("tool_started", 25),
    ("tool_finished", 15),
    ("module_loaded", 8),
    ("config_changed", 5),
    ("session_started", 4),
    ("update_checked", 2),
    ("plugin_installed", 1),
)
MODULES = ("code_review", "test_gen", "refactor", "doc_writer", "security_scan", "lint_fix", "deps_audit")
PLATFORMS = (("Linux", 50), ("macOS", 30), ("Windows", 20))
VERSIONS = ("1.0.0", "1.1.0", "1.1.1", "1.2.0", "1.2.1", "1.3.0")


def _scratch_name(base: str) -> str:
    return f"{base}_analytics_bench"[:63]


def _admin_connection(database: dict):
    import psycopg

    return psycopg.connect(
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        dbname="postgres",
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
        autocommit=True,
    )


def _raw_connection():
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    return psycopg.connect(
        host=database.get("HOST") or None,
        port=database.get("PORT") or None,
        dbname=database["NAME"],
        user=database.get("USER") or None,
        password=database.get("PASSWORD") or None,
    )


class ScratchDatabase:
    """Point Django's default connection at a fresh database; drop it on exit."""

    def __enter__(self):
        from django.conf import settings
        from django.db import connections

        self.settings = settings.DATABASES["default"]
        self.original = self.settings["NAME"]
        self.name = _scratch_name(self.original)
        with _admin_connection(self.settings) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}"')
            admin.execute(f'CREATE DATABASE "{self.name}" TEMPLATE template0')
        connections["default"].close()
        self.settings["NAME"] = self.name
        connections["default"].settings_dict["NAME"] = self.name
        return self

    def __exit__(self, *exc_info):
        from django.db import connections

        connections["default"].close()
        self.settings["NAME"] = self.original
        connections["default"].settings_dict["NAME"] = self.original
        with _admin_connection(self.settings) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def _weighted(generator: random.Random, table) -> str:
    names, weights = zip(*table, strict=True)
    return generator.choices(names, weights)[0]


class Traffic:
    """Deterministic, realistic-looking installs and events."""

    def __init__(self, seed: int = 20240501) -> None:
        self.generator = random.Random(seed)
        self.installs = [f"{0xB0000000 + n:016x}" for n in range(INSTALLS)]
        self.platform_of = {user_id: _weighted(self.generator, PLATFORMS) for user_id in self.installs}
        self.version_of = {user_id: self.generator.choice(VERSIONS) for user_id in self.installs}

    def event(self, user_id: str, moment: datetime) -> dict:
        generator = self.generator
        return {
            "user_id": user_id,
            "session_id": str(uuid.UUID(int=generator.getrandbits(128), version=4)),
            "event_type": _weighted(generator, EVENT_TYPES),
            "timestamp": moment.isoformat().replace("+00:00", "Z"),
            "event_data": {
                "module_name": generator.choice(MODULES),
                "execution_time": round(generator.lognormvariate(0.5, 0.8), 3),
                "success": generator.random() < 0.93,
                "files_touched": generator.randrange(0, 40),
            },
            "system_context": {
                "platform": self.platform_of[user_id],
                "jeeves_version": self.version_of[user_id],
                "session_duration": round(generator.uniform(1, 7200), 1),
            },
        }

    def batch(self, installs: list[str]) -> list[dict]:
        now = datetime.now(UTC)
        return [
            self.event(self.generator.choice(installs), now - timedelta(seconds=self.generator.randrange(86_400)))
            for _ in range(BATCH_SIZE)
        ]


def _copy_row(event: dict) -> tuple:
    """The usage_events row the API stores for ``event`` (for the COPY baseline)."""
    return (
        event["user_id"],
        event["session_id"],
        event["event_type"],
        event["timestamp"],
        json.dumps(event["event_data"]),
        json.dumps(event["system_context"]),
        event["system_context"]["platform"],
        event["system_context"]["jeeves_version"],
    )


_EVENT_COLUMNS = "user_id, session_id, event_type, timestamp, event_data, system_context, platform, jeeves_version"


def _weights_array(table) -> str:
    """A SQL array in which each name appears as often as its weight (out of 100)."""
    names = [name for name, weight in table for _ in range(weight)]
    return "ARRAY[" + ", ".join(f"'{name}'" for name in names) + "]"


def _load_million(traffic: Traffic, total: int) -> None:
    """Installs (COPY), then ``total`` usage events over DAYS days, error reports, feedback and
    active days generated inside PostgreSQL; then the rollups rebuilt from them (what ingest would
    have kept)."""
    from analytics.services.rollups import rollup_rebuild

    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = today - timedelta(days=DAYS - 1)
    first_install = int(traffic.installs[0], 16)
    install = f"lpad(to_hex({first_install} + mod(g, {INSTALLS})), 16, '0')"
    modules = "ARRAY[" + ", ".join(f"'{name}'" for name in MODULES) + "]"
    window = {"start": start, "seconds": DAYS * 86_400}
    with _raw_connection() as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET maintenance_work_mem = '256MB'")
        # Building the event table's indexes once after the load is much faster than keeping
        # them up to date row by row; they are re-created exactly as the migrations defined them.
        cursor.execute(
            "SELECT indexdef, indexname FROM pg_indexes WHERE tablename = 'analytics_usage_events' "
            "AND indexname NOT LIKE '%%pkey'"
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'analytics_usage_events'::regclass AND contype = 'f'"
        )
        foreign_keys = cursor.fetchall()
        for _, name in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        for name, _ in foreign_keys:
            cursor.execute(f'ALTER TABLE analytics_usage_events DROP CONSTRAINT "{name}"')
        with cursor.copy(
            "COPY analytics_users (user_id, registration_date, last_seen, platform, platform_version, architecture, "
            "python_version, jeeves_version, privacy_consent_version, code_safety_acknowledged, analytics_enabled, "
            "auto_registered, created_at) FROM STDIN"
        ) as copy:
            for user_id in traffic.installs:
                copy.write_row(
                    (user_id, start, today, traffic.platform_of[user_id], "6.5.0", "x64", "3.12.1",
                     traffic.version_of[user_id], "1.0.0", True, True, False, start)
                )  # fmt: skip
        cursor.execute(
            f"INSERT INTO analytics_usage_events ({_EVENT_COLUMNS}) "
            f"SELECT u.user_id, gen_random_uuid(), ({_weights_array(EVENT_TYPES)})[1 + floor(random() * 100)::int], "
            "%(start)s + random() * %(seconds)s * interval '1 second', "
            f"jsonb_build_object('module_name', ({modules})[1 + floor(random() * {len(MODULES)})::int], "
            "'execution_time', round((random() * random() * 8)::numeric, 3), 'success', random() < 0.93), "
            "jsonb_build_object('platform', u.platform, 'jeeves_version', u.jeeves_version), "
            "u.platform, u.jeeves_version "
            f"FROM generate_series(1, %(total)s) AS g JOIN analytics_users u ON u.user_id = {install}",
            {**window, "total": total},
        )
        cursor.execute(
            "INSERT INTO analytics_active_days (user_id, day) "
            "SELECT u.user_id, d::date FROM analytics_users u, "
            "generate_series(%(start)s::date, %(today)s::date, interval '1 day') AS d WHERE random() < 0.6",
            {"start": start, "today": today},
        )
        cursor.execute(
            "INSERT INTO analytics_error_groups (fingerprint, error_type, message, status, is_regression, count, "
            "users_affected, first_seen, last_seen, versions, platforms, latest_version, resolved_in_version) "
            "SELECT md5(g::text) || md5(g::text), 'ModuleExecutionError', 'module failed variant ' || g, "
            "'unresolved', false, 40, 30, %(start)s, %(today)s, '[\"1.2.0\"]', '[\"Linux\"]', '1.2.0', '' "
            "FROM generate_series(1, 500) AS g",
            {"start": start, "today": today},
        )
        cursor.execute(
            "INSERT INTO analytics_error_reports (user_id, group_id, session_id, error_type, error_message, "
            "stack_trace, timestamp, context, system_info, resolved, platform, python_version, jeeves_version) "
            "SELECT u.user_id, (SELECT min(id) FROM analytics_error_groups) + mod(g, 500), gen_random_uuid(), "
            "'ModuleExecutionError', 'module failed', 'Traceback ...', "
            "%(start)s + random() * %(seconds)s * interval '1 second', '{}', '{}', false, u.platform, '3.12.1', "
            f"u.jeeves_version FROM generate_series(1, 20000) AS g JOIN analytics_users u ON u.user_id = {install}",
            window,
        )
        cursor.execute(
            "INSERT INTO analytics_feedback (user_id, feedback_type, message, rating, timestamp, metadata, "
            "system_info, status, platform, jeeves_version, staff_note, updated_at) "
            "SELECT u.user_id, (ARRAY['bug', 'feature_request', 'general'])[1 + floor(random() * 3)::int], "
            "'It works well', (ARRAY[1, 2, 3, 4, 4, 5, 5, 5])[1 + floor(random() * 8)::int], "
            "%(start)s + random() * %(seconds)s * interval '1 second', '{}', '{}', 'new', u.platform, "
            f"u.jeeves_version, '', now() FROM generate_series(1, 5000) AS g "
            f"JOIN analytics_users u ON u.user_id = {install}",
            window,
        )
        for definition, _ in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE analytics_usage_events ADD CONSTRAINT "{name}" {definition}')
        connection.commit()
        cursor.execute("ANALYZE")
    rollup_rebuild(since=start.date(), until=today.date())


def _measure_ingest(traffic: Traffic, client) -> tuple[float, float]:
    """(events/s through POST /usage/batch, events/s of a raw COPY of the same rows)."""
    import orjson

    installs = traffic.installs[:1_000]

    def post(events: list[dict]) -> None:
        body = orjson.dumps({"events": events})
        response = client.post("/analytics/api/v1/usage/batch", body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"batch answered {response.status_code}: {response.content[:300]!r}")

    for _ in range(WARMUP_BATCHES):
        post(traffic.batch(installs))
    batches = [traffic.batch(installs) for _ in range(TIMED_BATCHES)]
    api_seconds = copy_seconds = 0.0
    with _raw_connection() as connection:
        for events in batches:
            rows = [_copy_row(event) for event in events]
            started = time.perf_counter()
            post(events)
            api_seconds += time.perf_counter() - started
            started = time.perf_counter()
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY analytics_usage_events ({_EVENT_COLUMNS}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
            connection.commit()
            copy_seconds += time.perf_counter() - started
    sent = TIMED_BATCHES * BATCH_SIZE
    return sent / api_seconds, sent / copy_seconds


_RAW_DASHBOARD = (
    # What the dashboard would have to run without rollups: every chart straight from raw rows.
    "SELECT timestamp::date, event_type, count(*) FROM analytics_usage_events "
    "WHERE timestamp >= %(since)s GROUP BY 1, 2",
    "SELECT event_data->>'module_name', count(*), sum((event_data->>'execution_time')::float) "
    "FROM analytics_usage_events WHERE timestamp >= %(since)s AND event_data ? 'execution_time' GROUP BY 1",
    "SELECT day, count(*) FROM analytics_active_days WHERE day >= %(since)s GROUP BY 1",
    "SELECT jeeves_version, count(*) FROM analytics_error_reports WHERE timestamp >= %(since)s GROUP BY 1",
    "SELECT rating, count(*) FROM analytics_feedback WHERE timestamp >= %(since)s AND rating IS NOT NULL GROUP BY 1",
)


def _median_ms(function, rounds: int) -> float:
    times = []
    for round_number in range(rounds + 2):
        started = time.perf_counter()
        function()
        if round_number >= 2:  # the first two warm caches up
            times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def _measure_dashboard(client) -> tuple[float, float, float]:
    """(median ms of the dashboard page, of the same aggregates from raw rows, of the events list)."""

    def page(url: str):
        def get():
            response = client.get(url)
            if response.status_code != 200:
                raise RuntimeError(f"{url} answered {response.status_code}")

        return get

    since = date.today() - timedelta(days=DAYS - 1)
    with _raw_connection() as connection:

        def raw():
            with connection.cursor() as cursor:
                for sql in _RAW_DASHBOARD:
                    cursor.execute(sql, {"since": since})
                    cursor.fetchall()

        dashboard_ms = _median_ms(page(f"/admin/analytics/dashboard/?days={DAYS}"), DASHBOARD_ROUNDS)
        raw_ms = _median_ms(raw, 3)
    events_ms = _median_ms(page("/admin/analytics/usageevent/"), 5)
    return dashboard_ms, raw_ms, events_ms


def run() -> list[dict]:
    from django.contrib.auth.models import Permission
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings

    from accounts.models import User

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/analytics.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    total = int(os.environ.get("ANALYTICS_BENCH_EVENTS", "1000000"))
    with ScratchDatabase():
        for app in ("sessions", "admin", "analytics"):
            call_command("migrate", app, verbosity=0)
        traffic = Traffic()
        started = time.perf_counter()
        _load_million(traffic, total)
        loaded_seconds = time.perf_counter() - started
        # Every client of a benchmark shares one address: lift the per-client limit.
        with override_settings(RATE_LIMIT_MULTIPLIER=10_000):
            staff = User.objects.create(username="bench-staff", email="bench@example.com", is_staff=True)
            # As staff who review analytics are set up: the view permissions of its admin pages.
            staff.user_permissions.add(
                *Permission.objects.filter(content_type__app_label="analytics", codename__startswith="view_")
            )
            client = Client()
            client.force_login(staff)
            dashboard_ms, raw_ms, events_ms = _measure_dashboard(client)
            api_rate, copy_rate = _measure_ingest(traffic, client)
    print(f"loaded {total} events and the rest in {loaded_seconds:.1f} s", file=sys.stderr)
    return [
        {
            "name": f"ingest: POST /usage/batch, {BATCH_SIZE} events a request (validated, scrubbed, rollups)",
            "value": round(api_rate),
            "unit": "events/s",
            "baseline_name": "raw psycopg COPY of the same rows",
            "baseline_value": round(copy_rate),
            "goal": ">= 0.2x",
        },
        {
            "name": f"admin dashboard, {DAYS} days, at {total:,} events (median)",
            "value": round(dashboard_ms, 1),
            "unit": "ms",
            "baseline_name": "the same aggregates straight from the raw rows (no rollups)",
            "baseline_value": round(raw_ms, 1),
            "goal": "<= 300 ms",
        },
        {
            "name": f"admin usage-event list, first page, at {total:,} events (median)",
            "value": round(events_ms, 1),
            "unit": "ms",
            "baseline_name": None,
            "baseline_value": None,
            "goal": "<= 500 ms",
        },
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for row in run():
        print(row)
