"""Locust users for bench/load.py: a realistic mix over the five APIs, signed in as prepared users.

Run by bench/load.py (never on its own): it writes the credentials file named by
``LOAD_CREDENTIALS`` and the run's tag in ``LOAD_RUN_TAG``. Every write carries the tag, so the
harness counts in the database exactly what this run stored. A request fails in Locust's stats
when its answer is not 2xx; the failure's message starts with the status, so 5xx are counted apart.
"""

from __future__ import annotations

import itertools
import json
import os
import uuid
from datetime import UTC, datetime

from locust import FastHttpUser, between, events, task

CREDENTIALS = json.loads(open(os.environ["LOAD_CREDENTIALS"]).read())  # noqa: SIM115
RUN_TAG = os.environ["LOAD_RUN_TAG"]
_next_user = itertools.count()
_write_numbers = itertools.count()
# Successful answers per request name, counted as they arrive: Locust's last CSV write can miss the
# answers of requests that finish while users stop, and writes must be counted exactly.
_successes: dict[str, int] = {}


@events.quitting.add_listener
def _write_successes(environment, **kwargs) -> None:
    with open(os.environ["LOAD_SUCCESSES"], "w") as handle:
        json.dump(_successes, handle)


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class PlatformUser(FastHttpUser):
    """One signed-in person using every product now and then, reads outnumbering writes."""

    wait_time = between(0.0, 0.02)

    def on_start(self) -> None:
        self.me = CREDENTIALS[next(_next_user) % len(CREDENTIALS)]

    def _call(self, method: str, path: str, name: str, headers: dict | None = None, body=None) -> None:
        kwargs = {"headers": headers or {}, "name": name, "catch_response": True}
        if body is not None:
            kwargs["json"] = body
        with self.client.request(method, path, **kwargs) as response:
            if not 200 <= response.status_code < 300:
                response.failure(f"HTTP {response.status_code}")
            else:
                _successes[name] = _successes.get(name, 0) + 1

    # --- marketplace ------------------------------------------------------------------------------
    @task(6)
    def marketplace_browse(self) -> None:
        self._call("GET", "/marketplace/v1/datasets?limit=20", "marketplace: browse datasets")

    @task(2)
    def marketplace_profile(self) -> None:
        self._call("GET", "/marketplace/v1/users/profile", "marketplace: profile", self.me["marketplace"])

    # --- coder ------------------------------------------------------------------------------------
    @task(3)
    def coder_me(self) -> None:
        self._call("GET", "/coder/api/users/me", "coder: me", self.me["coder"])

    @task(2)
    def coder_tasks(self) -> None:
        self._call("GET", "/coder/api/tasks", "coder: list tasks", self.me["coder"])

    # --- telemetry --------------------------------------------------------------------------------
    @task(2)
    def telemetry_stats(self) -> None:
        self._call("GET", "/telemetry/api/v1/users/me/stats", "telemetry: stats", self.me["telemetry"])

    @task(1)
    def telemetry_patterns(self) -> None:
        self._call("GET", "/telemetry/api/v1/patterns?limit=100", "telemetry: patterns", self.me["telemetry"])

    # --- analytics (no credential: anonymous installs) ----------------------------------------------
    @task(5)
    def analytics_track(self) -> None:
        body = {
            "user_id": self.me["install"],
            "session_id": self.me["session"],
            "event_type": "workflow_executed",
            "timestamp": now_iso(),
            "event_data": {"module_name": "code_review", "execution_time": 1.25, "success": True},
            "system_context": {"platform": "Linux", "jeeves_version": "1.2.0", "session_duration": 42.0},
        }
        self._call("POST", "/analytics/api/v1/usage/track", "analytics: track (write)", body=body)

    # --- cerebro and its ledger ---------------------------------------------------------------------
    @task(3)
    def cerebro_upsert(self) -> None:
        body = {"key": f"load-{RUN_TAG}-{uuid.uuid4().hex}", "content": {"note": "load"}, "layer": "context"}
        self._call("POST", "/cerebro/api/memory/upsert", "cerebro: memory upsert (write)", self.me["cerebro"], body)

    @task(2)
    def cerebro_search(self) -> None:
        body = {"query": "load", "limit": 10}
        self._call("POST", "/cerebro/api/memory/search", "cerebro: memory search", self.me["cerebro"], body)

    @task(1)
    def cerebro_history(self) -> None:
        self._call("GET", "/cerebro/api/history", "cerebro: history", self.me["cerebro"])

    @task(2)
    def ledger_create(self) -> None:
        body = {"typeName": f"load-{RUN_TAG}", "data": {"n": next(_write_numbers), "status": "open"}}
        self._call("POST", "/cerebro/api/ledger/objects", "ledger: create object (write)", self.me["cerebro"], body)
