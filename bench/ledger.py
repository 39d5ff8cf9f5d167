"""ledger: hash-chain appends through POST /cerebro/api/ledger/transactions on gunicorn, to one
object by one client and spread over 8 objects by 8 clients, beside the same chain append as raw
SQL over psycopg (one connection, one object), all in one run.

Runs in a scratch PostgreSQL database created next to DATABASE_URL's (dropped afterwards). The
server is gunicorn as deployed (deploy/gunicorn.conf.py, sync workers, DJANGO_DEBUG=0) on a free
loopback port; wrk posts JSON appends with a bearer token (authentication with its live-session
check, the rate limiter, validation, the append, the answer) from 1 or 8 connections, each
connection appending to its own object, or all 8 to one object. The raw baselines append to an
object of their own over one psycopg connection:

- the chain append as a client would write it by hand: BEGIN, lock the object's head (SELECT ...
  FOR NO KEY UPDATE), hash in Python (ledger.chain), INSERT the transaction, UPDATE the head and
  state, COMMIT: five round trips;
- the very statement the endpoint runs (ledger.chain.APPEND_STATEMENT, the same parameters): one
  round trip.

Beside them, the same endpoint called in this process through django.test.Client (no HTTP server,
one client), as issue 20 measured it; the floor under every figure through the server: a bare
Django view answering constant JSON (no authentication, no database) through the same gunicorn and
client; and the framework's share: the functions the endpoint runs, in its order, called from a
bare WSGI application (bench/append_without_framework.py) on a gunicorn of its own, as deployed,
by the same one client.

Raw loops and wrk runs alternate over the rounds, so each figure and its baseline see the same
machine; every chain written (raw and through the API) must verify afterwards.

    DATABASE_URL=postgres://... REDIS_URL=redis://... .venv/bin/python -m bench --only ledger --output /tmp/ledger.md

LEDGER_BENCH_SECONDS (default 5) is the length of each wrk run and raw loop, LEDGER_BENCH_ROUNDS
(default 2) the rounds, LEDGER_BENCH_WORKERS (default 2 x cores, as deployed) gunicorn's workers.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

if TYPE_CHECKING:
    from bench.wrk import LoadResult

SECONDS = int(os.environ.get("LEDGER_BENCH_SECONDS", "5"))
ROUNDS = int(os.environ.get("LEDGER_BENCH_ROUNDS", "2"))
WARMUP_SECONDS = 2
CLIENTS = 8
# What deploy/gunicorn.conf.py runs by default.
WORKERS = int(os.environ.get("LEDGER_BENCH_WORKERS") or 2 * (os.cpu_count() or 1))
TRANSACTIONS_PATH = "/cerebro/api/ledger/transactions"
LOG_DIR = BASE_DIR / "var" / "bench"


# --- Where it runs ---------------------------------------------------------------------------------


# --- The raw baselines -----------------------------------------------------------------------------


@dataclass
class Samples:
    """Appends timed one by one (seconds each)."""

    durations: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return len(self.durations) / sum(self.durations) if self.durations else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.durations) * 1000 if self.durations else 0.0


def _unlinked(*, object_id: str, user_id, step: int):
    """A transaction as the endpoint builds one (ledger.services), not yet linked."""
    from django.utils import timezone

    from ledger.models import LedgerTransaction

    return LedgerTransaction(
        id=uuid.uuid4(),
        ledger_object_id=uuid.UUID(object_id),
        sequence=0,
        action="update",
        data={"step": step},
        ip="127.0.0.1",
        user_agent="bench",
        created_by_id=user_id,
        created_at=timezone.now(),
    )


HEAD_FOR_UPDATE = "SELECT head_hash, head_sequence FROM ledger_ledgerobject WHERE id = %s FOR NO KEY UPDATE"
INSERT_TRANSACTION = (
    "INSERT INTO ledger_ledgertransaction (id, ledger_object_id, sequence, action, data, ip, user_agent,"
    " created_by_id, created_at, previous_hash, hash) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
MOVE_HEAD = (
    "UPDATE ledger_ledgerobject SET data = data || %s, head_hash = %s, head_sequence = %s, updated_at = %s"
    " WHERE id = %s"
)


def raw_append_by_hand(raw, *, object_id: str, user_id, step: int) -> None:
    """One chain append in five round trips: lock the head, hash here, insert, move the head, commit."""
    from psycopg.types.json import Jsonb

    from ledger import chain

    txn = _unlinked(object_id=object_id, user_id=user_id, step=step)
    with raw.transaction():
        txn.previous_hash, head_sequence = raw.execute(HEAD_FOR_UPDATE, (object_id,)).fetchone()
        txn.sequence = head_sequence + 1
        txn.hash = chain.transaction_hash(txn)
        raw.execute(
            INSERT_TRANSACTION,
            (
                txn.id,
                txn.ledger_object_id,
                txn.sequence,
                txn.action,
                Jsonb(txn.data),
                txn.ip,
                txn.user_agent,
                txn.created_by_id,
                txn.created_at,
                txn.previous_hash,
                txn.hash,
            ),
        )
        raw.execute(MOVE_HEAD, (Jsonb(txn.data), txn.hash, txn.sequence, txn.created_at, txn.ledger_object_id))


def raw_append_statement(raw, *, object_id: str, user_id, step: int) -> None:
    """One chain append as the endpoint writes it on PostgreSQL: its one statement, its parameters."""
    from ledger import chain, services

    txn = _unlinked(object_id=object_id, user_id=user_id, step=step)
    if raw.execute(chain.APPEND_STATEMENT, services.append_statement_parameters(txn)).fetchone() is None:
        raise RuntimeError(f"the append statement found no object {object_id}")


def raw_loop(append: Callable[..., None], raw, *, object_id: str, user_id, seconds: float, first_step: int) -> Samples:
    samples = Samples()
    deadline = time.perf_counter() + seconds
    step = first_step
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        append(raw, object_id=object_id, user_id=user_id, step=step)
        samples.durations.append(time.perf_counter() - started)
        step += 1
    return samples


# --- The endpoint under load ------------------------------------------------------------------------


def wrk_script(*, object_ids: list[str], token: str) -> str:
    """wrk's Lua: POST appends, connection n (one per wrk thread) to ``object_ids[n % len]``, each
    with data of its own; then the summary line bench/wrk.py reads."""
    from bench.wrk import SUMMARY_SCRIPT

    ids = ", ".join(json.dumps(object_id) for object_id in object_ids)
    return f"""-- bench/ledger.py: appends to ledger objects, one object per wrk thread
local objects = {{{ids}}}
local made = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer {token}"

function setup(thread)
  made = made + 1
  thread:set("object_id", objects[(made - 1) % #objects + 1])
end

local step = 0
function request()
  step = step + 1
  local body = '{{"objectId":"' .. object_id .. '","action":"update","data":{{"step":' .. step .. '}}}}'
  return wrk.format(nil, nil, nil, body)
end

""" + SUMMARY_SCRIPT.read_text()


def load(url: str, *, script: str, connections: int, seconds: int):
    """wrk with ``script``, one thread per connection (so one object per connection)."""
    from bench.wrk import run_wrk

    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "ledger.lua"
        path.write_text(script)
        return run_wrk(url, seconds=seconds, connections=connections, threads=connections, script=path)


# --- The run ---------------------------------------------------------------------------------------


@dataclass
class Measured:
    by_hand: Samples = field(default_factory=Samples)
    statement: Samples = field(default_factory=Samples)
    in_process: Samples = field(default_factory=Samples)
    loads: dict[str, list[LoadResult]] = field(default_factory=dict)
    load_averages: list[float] = field(default_factory=list)
    chains: int = 0
    chains_intact: int = 0


SCENARIOS = ("one object, 1 client", "8 objects, 8 clients", "one object, 8 clients")
# The floor under every figure through the server: Django's request handling and middleware
# answering constant JSON (bench/views.py), no authentication, no database, through the same
# gunicorn with the same one client.
BARE_VIEW = "a bare Django view, 1 client"
BARE_VIEW_PATH = "/bench/bare/constant-json"
# The endpoint's own work without the framework around it (bench/append_without_framework.py) on a
# gunicorn of its own, as deployed, with the same one client.
WITHOUT_FRAMEWORK = "the append's own work without Django's request handling or DRF, 1 client"
WITHOUT_FRAMEWORK_APPLICATION = "bench.append_without_framework:application"


def _create_objects(user, count: int) -> list[str]:
    from ledger import services

    origin = services.RequestOrigin(ip="127.0.0.1", user_agent="bench")
    return [
        str(services.ledger_object_create(user=user, type_name="contract", data={"n": n}, origin=origin).pk)
        for n in range(count)
    ]


def measure(raw, base_url: str, *, without_framework_url: str, user, token: str) -> Measured:
    objects = _create_objects(user, 6 + CLIENTS - 1)
    in_this_process, (single, contended, unframed, *spread) = objects[:3], objects[3:]
    in_process = _in_process_append(token)
    scripts = {
        "one object, 1 client": (wrk_script(object_ids=[single], token=token), 1),
        "8 objects, 8 clients": (wrk_script(object_ids=[single, *spread], token=token), CLIENTS),
        "one object, 8 clients": (wrk_script(object_ids=[contended], token=token), CLIENTS),
    }
    url = f"{base_url}{TRANSACTIONS_PATH}"
    measured = Measured(loads={name: [] for name in (*SCENARIOS, BARE_VIEW, WITHOUT_FRAMEWORK)})
    for script, connections in scripts.values():
        load(url, script=script, connections=connections, seconds=WARMUP_SECONDS)
    bare_view = _bare_view_load(f"{base_url}{BARE_VIEW_PATH}")
    bare_view(WARMUP_SECONDS)
    unframed_script = wrk_script(object_ids=[unframed], token=token)
    unframed_url = f"{without_framework_url}{TRANSACTIONS_PATH}"
    load(unframed_url, script=unframed_script, connections=1, seconds=WARMUP_SECONDS)
    measured.load_averages.append(os.getloadavg()[0])
    step = 0
    for round_number in range(ROUNDS):
        order = SCENARIOS if round_number % 2 == 0 else tuple(reversed(SCENARIOS))
        raw_first = round_number % 2 == 0
        if raw_first:
            step = _in_process_round(raw, measured, in_this_process, in_process, user_id=user.pk, step=step)
        for name in order:
            script, connections = scripts[name]
            measured.loads[name].append(load(url, script=script, connections=connections, seconds=SECONDS))
        measured.loads[BARE_VIEW].append(bare_view(SECONDS))
        without_framework = load(unframed_url, script=unframed_script, connections=1, seconds=SECONDS)
        measured.loads[WITHOUT_FRAMEWORK].append(without_framework)
        if not raw_first:
            step = _in_process_round(raw, measured, in_this_process, in_process, user_id=user.pk, step=step)
        measured.load_averages.append(os.getloadavg()[0])
    return measured


def _bare_view_load(url: str) -> Callable[[int], LoadResult]:
    from bench.wrk import run_wrk

    def bare_view(seconds: int) -> LoadResult:
        return run_wrk(url, seconds=seconds, connections=1, threads=1)

    return bare_view


def _in_process_append(token: str) -> Callable[..., None]:
    """An append through the whole Django stack in this process (django.test.Client, no HTTP
    server): how issue 20 measured its 193 appends/s."""
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def append(raw, *, object_id: str, user_id, step: int) -> None:
        body = json.dumps({"objectId": object_id, "action": "update", "data": {"step": step}})
        response = client.post(TRANSACTIONS_PATH, body, content_type="application/json")
        if response.status_code != 200:
            raise RuntimeError(f"in-process append answered {response.status_code}: {response.content[:300]}")

    return append


def _in_process_round(
    raw, measured: Measured, objects: list[str], in_process: Callable[..., None], *, user_id, step: int
) -> int:
    """One round of the appends made in this process: raw by hand, raw statement, django.test.Client."""
    for append, object_id, samples in (
        (raw_append_by_hand, objects[0], measured.by_hand),
        (raw_append_statement, objects[1], measured.statement),
        (in_process, objects[2], measured.in_process),
    ):
        taken = raw_loop(append, raw, object_id=object_id, user_id=user_id, seconds=SECONDS, first_step=step)
        samples.durations.extend(taken.durations)
        step += len(taken.durations)
    return step


def verify_chains(measured: Measured, *, user) -> None:
    from ledger import services
    from ledger.models import LedgerObject

    for ledger_object in LedgerObject.objects.filter(owner=user):
        measured.chains += 1
        measured.chains_intact += services.ledger_object_verify(ledger_object=ledger_object).valid


def rows(measured: Measured) -> list[dict]:
    def rate(name: str) -> float:
        return round(statistics.median(result.requests_per_second for result in measured.loads[name]), 1)

    one, spread, contended, bare, unframed = (rate(name) for name in (*SCENARIOS, BARE_VIEW, WITHOUT_FRAMEWORK))
    one_p50 = statistics.median(result.p50_ms for result in measured.loads["one object, 1 client"])
    endpoint = f"POST {TRANSACTIONS_PATH}"
    server = f"gunicorn, {WORKERS} sync workers, wrk"
    return [
        {
            "name": f"appends to one object: {endpoint}, 1 client ({server} -c1)",
            "value": one,
            "unit": "appends/s",
            "baseline_name": "the chain append as raw SQL by hand, one connection: lock head, hash, insert, "
            "move head, commit (5 round trips)",
            "baseline_value": round(measured.by_hand.rate, 1),
            "goal": ">= 0.5x",
        },
        {
            "name": f"the floor of any figure through the server: {BARE_VIEW_PATH}, constant JSON, no "
            f"authentication or database ({server} -c1)",
            "value": bare,
            "unit": "req/s",
            "baseline_name": "the chain append as raw SQL by hand (above, same run)",
            "baseline_value": round(measured.by_hand.rate, 1),
            "goal": "",
        },
        {
            "name": f"{WITHOUT_FRAMEWORK}: the same functions in their order (health check, token and live "
            f"session, rate limit, validation, append, answer) in a bare WSGI application "
            f"(bench/append_without_framework.py, {server} -c1)",
            "value": unframed,
            "unit": "appends/s",
            "baseline_name": "the chain append as raw SQL by hand (above, same run)",
            "baseline_value": round(measured.by_hand.rate, 1),
            "goal": "",
        },
        {
            "name": f"appends to one object: {endpoint}, 1 client",
            "value": one,
            "unit": "appends/s",
            "baseline_name": f"{WITHOUT_FRAMEWORK} (above, same run)",
            "baseline_value": unframed,
            "goal": "",
        },
        {
            "name": f"appends to one object: {endpoint}, 1 client",
            "value": one,
            "unit": "appends/s",
            "baseline_name": "the endpoint's own append statement (ledger.chain.APPEND_STATEMENT) over psycopg, "
            "one connection (1 round trip)",
            "baseline_value": round(measured.statement.rate, 1),
            "goal": "",
        },
        {
            "name": f"appends spread over 8 objects by 8 clients: {endpoint} ({server} -c8, one object each)",
            "value": spread,
            "unit": "appends/s",
            "baseline_name": "appends to one object, 1 client (above, same run)",
            "baseline_value": one,
            "goal": ">= 1.5x",
        },
        {
            "name": f"appends to one object by 8 clients: {endpoint} (-c8, all on one chain)",
            "value": contended,
            "unit": "appends/s",
            "baseline_name": "appends spread over 8 objects by 8 clients (above, same run)",
            "baseline_value": spread,
            "goal": "",
        },
        {
            "name": f"appends to one object in-process: {endpoint} through django.test.Client, no HTTP server "
            "(as issue 20 measured 193/s)",
            "value": round(measured.in_process.rate, 1),
            "unit": "appends/s",
            "baseline_name": "the chain append as raw SQL by hand (above, same run)",
            "baseline_value": round(measured.by_hand.rate, 1),
            "goal": "",
        },
        {
            "name": "one append, 1 client: median latency through the endpoint (wrk)",
            "value": round(one_p50, 2),
            "unit": "ms",
            "baseline_name": "one append as raw SQL by hand: median",
            "baseline_value": round(measured.by_hand.median_ms, 2),
            "goal": "",
        },
        {
            "name": "chains that verify after the run (ledger_object_verify: raw and endpoint appends)",
            "value": measured.chains_intact,
            "unit": "chains",
            "baseline_name": "chains written",
            "baseline_value": measured.chains,
            "goal": ">= 1x",
        },
        {
            "name": "load average (1 min) while measuring, highest reading",
            "value": round(max(measured.load_averages), 2),
            "unit": "",
            "baseline_name": "lowest reading",
            "baseline_value": round(min(measured.load_averages), 2),
            "goal": "",
        },
    ]


def run() -> list[dict]:
    from django.core.management import call_command
    from django.db import connection
    from django.test import override_settings

    from accounts.models import User
    from accounts.services import auth_session_start
    from bench.processes import deployed_gunicorn, free_port
    from bench.scratch import ScratchDatabase, connect

    if connection.vendor != "postgresql":
        raise RuntimeError("bench/ledger.py measures PostgreSQL: set DATABASE_URL=postgres://...")
    with ScratchDatabase("ledger") as scratch:
        for app in ("accounts", "ledger"):  # the user, its session, the ledger
            call_command("migrate", app, verbosity=0)
        user = User.objects.create(username="bench-ledger", email="bench-ledger@example.invalid")
        token = auth_session_start(user=user, product="cerebro").tokens.access
        connection.close()  # the server and the raw connection start from here
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        server = deployed_gunicorn(name="ledger", port=port, workers=WORKERS, DATABASE_URL=scratch.url())
        unframed_port = free_port()
        unframed_server = deployed_gunicorn(
            name="ledger-without-framework",
            port=unframed_port,
            workers=WORKERS,
            application=WITHOUT_FRAMEWORK_APPLICATION,
            DATABASE_URL=scratch.url(),
        )
        unframed_url = f"http://127.0.0.1:{unframed_port}"
        with server, unframed_server, connect(scratch.settings, scratch.name, autocommit=True) as raw:
            # As the endpoint runs its statements (core.db.prepared_cursor): bound on the server and
            # prepared on the first execution; UTC.
            raw.prepare_threshold = 0
            raw.execute("SET TIME ZONE 'UTC'")
            server.wait_until_answering(f"{base_url}{TRANSACTIONS_PATH}", status=None)
            unframed_server.wait_until_answering(f"{unframed_url}{TRANSACTIONS_PATH}", status=None)
            # As the server under test: the limiter counts, and never refuses.
            with override_settings(RATE_LIMIT_MULTIPLIER=1_000_000):
                measured = measure(raw, base_url, without_framework_url=unframed_url, user=user, token=token)
        verify_chains(measured, user=user)
        connection.close()
    errors = sum(result.errors for results in measured.loads.values() for result in results)
    if errors:
        raise RuntimeError(f"wrk saw {errors} errors or non-2xx answers; see {server.log_path}")
    print(f"load average (1 min) over the run: {measured.load_averages}", file=sys.stderr)
    return rows(measured)
