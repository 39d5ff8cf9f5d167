"""Telemetry: learning ingest through the API vs a raw COPY, and pattern downloads vs a raw query.

Both API figures go through the whole Django stack in-process (django.test.Client: middleware,
authentication, rate limits, DRF, the ORM), without an HTTP server in front; the baselines use a
separate psycopg connection to the same database in the same run.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python bench/telemetry.py
"""

from __future__ import annotations

import itertools
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

INGEST_WARMUP_BATCHES = 5
INGEST_BATCHES = 20
BATCH_SIZE = 1000
# Learnings are drawn from this many error/fix pairs over this many errors: after the warm-up
# every pair exists, so the timed batches measure counter updates, not first sightings.
PAIRS = 5000
ERRORS = 2000
# How learnings pick their pair. "zipf": the k-th most common pair with weight 1/k, as build
# errors go (a few missing dependencies and type errors are most of them); a batch of 1000 then
# touches about 500 distinct pairs. "uniform": every pair alike, about 900 distinct pairs a
# batch, the costliest case for the counters.
DISTRIBUTIONS = ("zipf", "uniform")
DOWNLOAD_PATTERNS = 12_000
DOWNLOAD_LIMIT = 10_000
DOWNLOAD_ROUNDS = 15


def _hex(generator: random.Random) -> str:
    return generator.randbytes(32).hex()


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


class _Run:
    """Everything one run creates carries its own framework slug, so it can all be removed."""

    def __init__(self) -> None:
        from telemetry.fix_text import fix_signature

        self.tag = secrets.token_hex(4)
        self.framework = f"bench-{self.tag}"
        self.user_id = f"anon-bench-{self.tag}"
        self.generator = random.Random(20240115)
        self.errors = [_hex(self.generator) for _ in range(ERRORS)]
        # Each pair's fix text, under the signature of its canonical form (as clients must send it).
        self.fixes = {}
        for index in range(PAIRS):
            fix = {"type": "SHELL_COMMAND", "description": "Install missing dependency", "command": f"npm ci #{index}"}
            self.fixes[fix_signature(fix)] = fix
        self.pairs = [(self.errors[index % ERRORS], fix) for index, fix in enumerate(self.fixes)]
        self.zipf_weights = list(itertools.accumulate(1 / rank for rank in range(1, PAIRS + 1)))

    def batch(self, pairs: list[tuple[str, str]]) -> list[dict]:
        return [
            {
                "errorSignature": error,
                "fixSignature": fix,
                "success": self.generator.random() < 0.8,
                "durationMs": self.generator.randrange(100, 60_000),
                "projectSize": self.generator.randrange(1, 5_000),
                "framework": self.framework,
                "anonymized": True,
                "fix": self.fixes[fix],
            }
            for error, fix in pairs
        ]

    def random_batch(self, distribution: str = "zipf") -> list[dict]:
        if distribution == "uniform":
            return self.batch(self.generator.choices(self.pairs, k=BATCH_SIZE))
        return self.batch(self.generator.choices(self.pairs, cum_weights=self.zipf_weights, k=BATCH_SIZE))

    def cleanup(self) -> None:
        from telemetry.models import ContributorDay, Error, Fix, Learning, Pattern

        Learning.objects.filter(user_id__startswith=self.user_id).delete()
        ContributorDay.objects.filter(fix__error__framework=self.framework).delete()
        Pattern.objects.filter(framework=self.framework).delete()
        Fix.objects.filter(error__framework=self.framework).delete()
        Error.objects.filter(framework=self.framework).delete()


def _pro_key(run: _Run) -> str:
    from accounts.services import secret_hash
    from telemetry.models import TelemetryKey, Tier
    from telemetry.services.keys import api_key_issue, telemetry_keys_confirm

    issued = api_key_issue(email=f"bench-{run.tag}@example.com")
    key = TelemetryKey.objects.select_related("account").get(api_key__key_hash=secret_hash(issued.raw_key))
    telemetry_keys_confirm(keys=[key])
    key.account.tier = Tier.PRO
    key.account.save(update_fields=["tier"])
    return issued.raw_key


def _copy_rows(run: _Run, learnings: list[dict]) -> list[tuple]:
    """The learning rows an upload of ``learnings`` stores, for the COPY baseline."""
    from telemetry.models import error_id_for, fix_id_for

    rows = []
    for item in learnings:
        error_id = error_id_for(team_id=None, framework=item["framework"], signature=item["errorSignature"])
        rows.append(
            (
                f"{run.user_id}-copy",
                f"session-{run.tag}",
                item["errorSignature"],
                item["fixSignature"],
                fix_id_for(error_id=error_id, fix_signature=item["fixSignature"]),
                item["success"],
                item["durationMs"],
                item["projectSize"],
                item["framework"],
            )
        )
    return rows


def _post_learnings(run: _Run, client, headers: dict, learnings: list[dict]) -> None:
    import orjson

    body = orjson.dumps({"sessionId": f"session-{run.tag}", "learnings": learnings})
    response = client.post("/telemetry/api/v1/learnings", body, content_type="application/json", secure=True, **headers)
    if response.status_code != 200:
        raise RuntimeError(f"upload answered {response.status_code}: {response.content[:300]!r}")


def _warm_up_ingest(run: _Run, client, headers: dict) -> None:
    """Every pair seen once (fix text checked and stored), then a few batches: caches warm."""
    for start in range(0, PAIRS, BATCH_SIZE):
        _post_learnings(run, client, headers, run.batch(run.pairs[start : start + BATCH_SIZE]))
    for _ in range(INGEST_WARMUP_BATCHES):
        _post_learnings(run, client, headers, run.random_batch())


def _measure_ingest(run: _Run, client, headers: dict, distribution: str) -> tuple[float, float]:
    """(learnings/s through POST /api/v1/learnings, learnings/s of a raw COPY of the same rows)."""
    batches = [run.random_batch(distribution) for _ in range(INGEST_BATCHES)]
    copy_batches = [_copy_rows(run, learnings) for learnings in batches]
    columns = (
        "user_id, session_id, error_signature, fix_signature, fix_id, success, duration_ms, project_size, framework"
    )
    api_seconds = copy_seconds = 0.0
    # Alternate an upload and a COPY of the same rows, so both see the same machine load.
    with _raw_connection() as connection:
        for learnings, rows in zip(batches, copy_batches, strict=True):
            started = time.perf_counter()
            _post_learnings(run, client, headers, learnings)
            api_seconds += time.perf_counter() - started
            started = time.perf_counter()
            with connection.cursor() as cursor, cursor.copy(f"COPY learnings ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            connection.commit()
            copy_seconds += time.perf_counter() - started
    learnings_sent = INGEST_BATCHES * BATCH_SIZE
    api_rate, copy_rate = learnings_sent / api_seconds, learnings_sent / copy_seconds
    return api_rate, copy_rate


def _seed_patterns(run: _Run) -> None:
    from telemetry.models import Pattern

    Pattern.objects.bulk_create(
        [
            Pattern(
                id=_hex(run.generator),
                error_signature=_hex(run.generator),
                fix_signature=_hex(run.generator),
                framework=run.framework,
                success_count=(successes := run.generator.randrange(1, 3000)),
                fail_count=(failures := run.generator.randrange(0, 500)),
                success_rate=round(successes / (successes + failures), 4),
                confidence=round(run.generator.random(), 4),
                fix_type="SHELL_COMMAND",
                fix_description="Install missing dependency",
                fix_command=f"npm install package-{index}",
                visible=True,
                changed_sequence=1,
            )
            for index in range(DOWNLOAD_PATTERNS)
        ],
        batch_size=2000,
    )


_RAW_PATTERNS = (
    "SELECT error_signature, fix_signature, success_rate, success_count, fail_count, framework, "
    "fix_type, fix_description, fix_command, confidence FROM telemetry_pattern "
    "WHERE visible AND team_id IS NULL ORDER BY confidence DESC, id LIMIT %s"
)


def _raw_download(connection, version: str, total: int) -> bytes:
    import orjson

    with connection.cursor() as cursor:
        cursor.execute(_RAW_PATTERNS, [DOWNLOAD_LIMIT])
        rows = cursor.fetchall()
    patterns = [
        {
            "errorSignature": row[0],
            "fixSignature": row[1],
            "successRate": row[2],
            "usageCount": row[3] + row[4],
            "framework": row[5],
            "fix": {"type": row[6], "description": row[7], "command": row[8], "confidence": row[9]},
        }
        for row in rows
    ]
    return orjson.dumps({"patterns": patterns, "total": total, "version": version})


def _measure_download(run: _Run, client, headers: dict) -> tuple[float, float]:
    """(median ms of GET /api/v1/patterns?limit=10000, median ms of a raw query + orjson)."""
    import orjson

    from telemetry.selectors import current_version, patterns_total

    _seed_patterns(run)
    sequence, version = current_version()
    total = patterns_total(team_id=None, framework=None, sequence=sequence)
    url = f"/telemetry/api/v1/patterns?limit={DOWNLOAD_LIMIT}"
    api_times, raw_times = [], []
    with _raw_connection() as connection:
        for round_number in range(DOWNLOAD_ROUNDS + 2):
            started = time.perf_counter()
            response = client.get(url, secure=True, **headers)
            api_elapsed = time.perf_counter() - started
            if response.status_code != 200:
                raise RuntimeError(f"download answered {response.status_code}: {response.content[:300]!r}")
            started = time.perf_counter()
            raw = _raw_download(connection, version, total)
            raw_elapsed = time.perf_counter() - started
            if round_number >= 2:  # the first two warm both sides up
                api_times.append(api_elapsed)
                raw_times.append(raw_elapsed)
        served = orjson.loads(response.content)["patterns"]
        expected = orjson.loads(raw)["patterns"]
        if len(served) != DOWNLOAD_LIMIT or served != expected:
            raise RuntimeError("the API and the raw query returned different patterns")
    return statistics.median(api_times) * 1000, statistics.median(raw_times) * 1000


def run() -> list[dict]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/telemetry.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    run_state = _Run()
    # The API's own limits (100 requests a minute) would stop a benchmark after 100 batches.
    with override_settings(RATE_LIMIT_MULTIPLIER=10_000):
        try:
            client = Client()
            headers = {"HTTP_AUTHORIZATION": f"Bearer {_pro_key(run_state)}", "HTTP_X_USER_ID": run_state.user_id}
            _warm_up_ingest(run_state, client, headers)
            ingest = {
                distribution: _measure_ingest(run_state, client, headers, distribution)
                for distribution in DISTRIBUTIONS
            }
            api_ms, raw_ms = _measure_download(run_state, client, headers)
        finally:
            run_state.cleanup()
    (api_rate, copy_rate), (uniform_rate, uniform_copy_rate) = ingest["zipf"], ingest["uniform"]
    return [
        {
            "name": f"ingest: POST /api/v1/learnings, batches of {BATCH_SIZE}, counters updated (Zipf pairs)",
            "value": round(api_rate),
            "unit": "learnings/s",
            "baseline_name": "raw psycopg COPY of the same rows",
            "baseline_value": round(copy_rate),
            "goal": ">= 0.25x",
        },
        {
            "name": f"ingest, worst case: every pair equally likely (~900 distinct pairs per {BATCH_SIZE})",
            "value": round(uniform_rate),
            "unit": "learnings/s",
            "baseline_name": "raw psycopg COPY of the same rows",
            "baseline_value": round(uniform_copy_rate),
            "goal": None,
        },
        {
            "name": f"download: GET /api/v1/patterns?limit={DOWNLOAD_LIMIT}, median",
            "value": round(api_ms, 1),
            "unit": "ms",
            "baseline_name": "raw psycopg query + orjson of the same rows",
            "baseline_value": round(raw_ms, 1),
            "goal": "<= 2x",
        },
    ]


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for row in run():
        print(row)
