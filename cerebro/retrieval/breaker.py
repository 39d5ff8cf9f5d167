"""A circuit breaker shared by every process through the cache (Redis on the full stack).

Closed: calls go through; each failure is counted, a success clears the count. After
``CEREBRO_BREAKER_FAILURES`` consecutive failures the breaker opens for
``CEREBRO_BREAKER_RESET_SECONDS``: calls are refused at once (callers fall back). When that time
has passed one trial call is let through (half-open); its success closes the breaker, its failure
opens it again for another period.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

from cerebro import conf


@dataclass
class CircuitBreaker:
    name: str
    failure_threshold: int = conf.BREAKER_FAILURE_THRESHOLD
    reset_seconds: int = conf.BREAKER_RESET_SECONDS

    @property
    def _failures_key(self) -> str:
        return f"cerebro:breaker:{self.name}:failures"

    @property
    def _open_until_key(self) -> str:
        return f"cerebro:breaker:{self.name}:open-until"

    @property
    def _trial_key(self) -> str:
        return f"cerebro:breaker:{self.name}:trial"

    def state(self) -> str:
        open_until = cache.get(self._open_until_key)
        if open_until is None:
            return "closed"
        return "open" if open_until > time.time() else "half_open"

    def allow(self) -> bool:
        """May a call go through now? In half-open state only one caller gets the trial."""
        state = self.state()
        if state == "closed":
            return True
        if state == "open":
            return False
        return cache.add(self._trial_key, 1, timeout=self.reset_seconds)

    def record_success(self) -> None:
        cache.delete_many([self._failures_key, self._open_until_key, self._trial_key])

    def record_failure(self) -> None:
        if self.state() == "half_open":
            self._open()
            return
        cache.add(self._failures_key, 0, timeout=self.reset_seconds * 10)
        try:
            failures = cache.incr(self._failures_key)
        except ValueError:
            failures = 1
            cache.set(self._failures_key, 1, timeout=self.reset_seconds * 10)
        if failures >= self.failure_threshold:
            self._open()

    def _open(self) -> None:
        cache.set(self._open_until_key, time.time() + self.reset_seconds, timeout=None)
        cache.delete_many([self._failures_key, self._trial_key])
