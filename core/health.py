"""Dependency checks for /health (and each API's own health endpoint)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from asgiref.sync import async_to_sync
from celery import current_app
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.cache import cache
from django.db import connection

# A check waits at most this long for the channel layer to hand back its message: /health answers
# "unhealthy" rather than hold a server thread (a sync view under ASGI holds the process's one).
CHANNEL_LAYER_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    healthy: bool
    backend: str
    latency_ms: float
    error: str = ""

    def as_dict(self) -> dict:
        result = {
            "status": "healthy" if self.healthy else "unhealthy",
            "backend": self.backend,
            "latencyMs": self.latency_ms,
        }
        if self.error:
            result["error"] = self.error
        return result


def _timed(name: str, backend: str, probe: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # any failure of a dependency is a finding, not a crash
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        return CheckResult(name, False, backend, elapsed, type(exc).__name__)
    return CheckResult(name, True, backend, round((time.perf_counter() - started) * 1000, 2))


def check_database() -> CheckResult:
    def probe():
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()

    return _timed("database", connection.vendor, probe)


def check_cache() -> CheckResult:
    def probe():
        key = f"health:{uuid.uuid4().hex}"
        cache.set(key, "ok", timeout=5)
        if cache.get(key) != "ok":
            raise RuntimeError("cache did not return what was stored")
        cache.delete(key)

    backend = "redis" if "redis" in settings.CACHES["default"]["BACKEND"].lower() else "locmem"
    return _timed("cache", backend, probe)


def check_broker() -> CheckResult:
    # The project's Celery app (config/celery.py, loaded by config/__init__.py), found without core
    # importing config: core sits below every other layer (docs/architecture.md, "Layers").
    app = current_app
    if app.conf.task_always_eager:
        return CheckResult("broker", True, "in-process", 0.0)

    def probe():
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)

    return _timed("broker", app.conf.broker_url.split(":", 1)[0], probe)


def check_channel_layer() -> CheckResult:
    layer = get_channel_layer()
    backend = type(layer).__name__ if layer else "none"

    def probe():
        if layer is None:
            raise RuntimeError("no channel layer configured")

        async def roundtrip():
            channel = await layer.new_channel("health.")
            async with asyncio.timeout(CHANNEL_LAYER_TIMEOUT_SECONDS):
                await layer.send(channel, {"type": "health.ping"})
                message = await layer.receive(channel)
            if message.get("type") != "health.ping":
                raise RuntimeError("channel layer returned another message")

        async_to_sync(roundtrip)()

    return _timed("channel_layer", backend, probe)


CHECKS: dict[str, Callable[[], CheckResult]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
    "channel_layer": check_channel_layer,
}


def run_checks(names: tuple[str, ...] | None = None) -> dict[str, CheckResult]:
    return {name: CHECKS[name]() for name in (names or tuple(CHECKS))}
